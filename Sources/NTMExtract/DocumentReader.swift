import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// Reads a plan as text: UTF-8 text as it is, `.docx` through its `word/document.xml`, `.pdf` through
/// Debian's `pdftotext` (poppler-utils), run as a child process; nothing leaves the machine.
public enum DocumentReader {
    public enum Failure: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case notUTF8(path: String)
        case noDocumentXML(path: String)
        case pdftotext(path: String, status: Int32, stderr: String)
        case pdftotextMissing

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "\(path): cannot read the file (\(reason)); check the path and its permissions"
            case .notUTF8(let path): "\(path): not UTF-8 text; save it as UTF-8, or give the .docx or .pdf"
            case .noDocumentXML(let path): "\(path): no word/document.xml inside; is it a Word .docx (not an old .doc)?"
            case .pdftotext(let path, let status, let stderr): "\(path): pdftotext exited with \(status): \(stderr)"
            case .pdftotextMissing: "pdftotext is not installed; install Debian's poppler-utils (apt-get install poppler-utils)"
            }
        }
    }

    public static func text(of path: String) throws -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "docx": return try docx(path)
        case "pdf": return try pdf(path)
        default:
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw Failure.unreadable(path: path, reason: error.localizedDescription)
            }
            guard var text = String(data: data, encoding: .utf8) else { throw Failure.notUTF8(path: path) }
            if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            return text
        }
    }

    static func docx(_ path: String) throws -> String {
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw Failure.unreadable(path: path, reason: "not a zip archive")
        }
        guard let entry = archive["word/document.xml"] else { throw Failure.noDocumentXML(path: path) }
        var xml = Data()
        do { _ = try archive.extract(entry, consumer: { xml.append($0) }) } catch {
            throw Failure.unreadable(path: path, reason: "word/document.xml: \(error)")
        }
        let collector = WordText()
        let parser = XMLParser(data: xml)
        parser.delegate = collector
        guard parser.parse() else {
            throw Failure.unreadable(path: path, reason: "word/document.xml line \(parser.lineNumber): \(parser.parserError.map { "\($0)" } ?? "invalid XML")")
        }
        return collector.text
    }

    /// pdftotext in its default reading-order mode: `-layout` pads lines to their column on the page,
    /// which joins the two header columns and indents every line, while the reading order keeps one
    /// paragraph line after another and marks page breaks with a form feed, where footnotes end.
    static func pdf(_ path: String) throws -> String {
        guard let program = ["/usr/bin/pdftotext", "/usr/local/bin/pdftotext"].first(where: FileManager.default.isExecutableFile) else {
            throw Failure.pdftotextMissing
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = ["-enc", "UTF-8", path, "-"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure.pdftotext(path: path, status: process.terminationStatus,
                                    stderr: String(decoding: errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Collects a Word body's text: runs (`w:t`) joined, one line per paragraph (`w:p`), tabs and breaks kept.
final class WordText: NSObject, XMLParserDelegate {
    private(set) var text = ""
    private var inText = false

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        switch name {
        case "w:t": inText = true
        case "w:tab": text.append("\t")
        case "w:br", "w:cr": text.append("\n")
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "w:t" { inText = false }
        if name == "w:p" { text.append("\n") }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { text.append(string) }
    }
}
