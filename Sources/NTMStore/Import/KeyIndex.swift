import Foundation

/// The first row of each key a file gives, to refuse a key given twice. The keys are kept as
/// bytes, one after another in one buffer, under an open-addressing table of 16-byte slots: a
/// dictionary of `[Cell]` keys cost an eighth of an import's time and about 200 bytes a row (an
/// array and a string per key), this about 60. Keys are compared byte for byte, as the store's
/// unique index compares them (every text cell is NFC already).
struct KeyIndex {
    private struct Slot {
        var offset = 0
        var length: UInt32 = 0
        /// 0 for an empty slot: rows are numbered from 1.
        var row: Int32 = 0
    }

    private var keys: [UInt8] = []
    private var slots: [Slot]
    private var count = 0
    private var scratch: [UInt8] = []

    /// Sized for `expected` keys, so that a file of known length never grows the table.
    init(expected: Int = 0) {
        var capacity = 1024
        while capacity * 3 < expected * 4 { capacity *= 2 }
        slots = [Slot](repeating: Slot(), count: capacity)
    }

    /// The row that gave the key of `cells` at `positions` first; nil when none did, and then
    /// `row` is that row from now on. A cell the row does not give counts as NULL.
    mutating func firstRow(of cells: [Cell?], at positions: [Int], row: Int) -> Int? {
        scratch.removeAll(keepingCapacity: true)
        for position in positions { Self.encode(cells[position] ?? .null, into: &scratch) }
        let hash = scratch.withUnsafeBytes { Self.hash($0) }
        var index = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        while slots[index].row != 0 {
            if Int(slots[index].length) == scratch.count, equal(at: slots[index].offset) { return Int(slots[index].row) }
            index = (index + 1) & (slots.count - 1)
        }
        slots[index] = Slot(offset: keys.count, length: UInt32(scratch.count), row: Int32(clamping: row))
        keys.append(contentsOf: scratch)
        count += 1
        if count * 4 > slots.count * 3 { grow() }
        return nil
    }

    private func equal(at offset: Int) -> Bool {
        scratch.withUnsafeBytes { key in
            keys.withUnsafeBytes { all in memcmp(key.baseAddress!, all.baseAddress! + offset, key.count) == 0 }
        }
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        for slot in old where slot.row != 0 {
            let hash = keys.withUnsafeBytes { Self.hash(UnsafeRawBufferPointer(rebasing: $0[slot.offset..<slot.offset + Int(slot.length)])) }
            var index = Int(truncatingIfNeeded: hash) & (slots.count - 1)
            while slots[index].row != 0 { index = (index + 1) & (slots.count - 1) }
            slots[index] = slot
        }
    }

    /// A tag, then the value: a text's length (7 bits a byte) and UTF-8 bytes, a number's 8 bytes.
    private static func encode(_ cell: Cell, into bytes: inout [UInt8]) {
        func append(_ value: UInt64) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        switch cell {
        case .null:
            bytes.append(0)
        case .text(let text):
            bytes.append(1)
            var length = text.utf8.count
            while length >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: length) | 0x80)
                length >>= 7
            }
            bytes.append(UInt8(length))
            bytes.append(contentsOf: text.utf8)
        case .integer(let value):
            bytes.append(2)
            append(UInt64(bitPattern: value))
        case .number(let value):
            // 0.0 and -0.0 are one key, as `==` says.
            bytes.append(3)
            append((value == 0 ? 0 : value).bitPattern)
        }
    }

    /// Eight bytes at a time, multiplied and folded (FNV-1a's constants), then a finalizer that
    /// spreads the result over the low bits the table uses.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = (hash ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x0000_0100_0000_01b3
            hash ^= hash >> 29
            offset += 8
        }
        while offset < bytes.count {
            hash = (hash ^ UInt64(bytes[offset])) &* 0x0000_0100_0000_01b3
            offset += 1
        }
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        return hash
    }
}
