import Foundation

/// The first row of each key a file gives, to refuse a key given twice. A key is kept as a 96-bit
/// fingerprint (SipHash, seeded anew in each process) beside its row, 16 bytes a slot of an
/// open-addressing table sized for the file: about 21 bytes a row. The keys' own bytes beside a
/// power-of-two table cost about 60 (1.9 M assessments: 39 MiB now, 138 MiB then before the
/// key buffer's growth), a dictionary of `[Cell]` keys about 200. Two different keys share a
/// fingerprint with a chance of about n²/2⁹⁷ (3 M keys: 6·10⁻¹⁷), far below a disk's or memory's
/// undetected errors, and a new seed each run; the key is encoded as the store's unique index
/// compares it (every text cell is NFC already).
struct KeyIndex: Sendable {
    private struct Slot: Sendable {
        var low: UInt64 = 0
        var high: UInt32 = 0
        /// 0 for an empty slot: rows are numbered from 1.
        var row: Int32 = 0
    }

    /// Made at the first key: an index copied before it (into the task that checks a file) is
    /// an empty array, not a second table of tens of MiB to copy on the first write.
    private var slots: [Slot] = []
    private let expected: Int
    private var count = 0
    private var scratch: [UInt8] = []

    /// Sized for `expected` keys, so that a file of known length never grows the table.
    init(expected: Int = 0) {
        self.expected = expected
    }

    /// Room for `keys` at most three quarters full.
    private static func capacity(for keys: Int) -> Int { max(1024, keys + keys / 3 + 1) }

    /// The row that gave the key of `cells` at `positions` first; nil when none did, and then
    /// `row` is that row from now on. A cell the row does not give counts as its value in
    /// `absent` (one per position): the value the row is stored and looked up with.
    mutating func firstRow(of cells: [Cell?], at positions: [Int], absent: [Cell], row: Int) -> Int? {
        scratch.removeAll(keepingCapacity: true)
        for (index, position) in positions.enumerated() { Self.encode(cells[position] ?? absent[index], into: &scratch) }
        let (low, high) = scratch.withUnsafeBytes { Self.fingerprint($0) }
        if slots.isEmpty { slots = [Slot](repeating: Slot(), count: Self.capacity(for: expected)) }
        var index = Self.home(low, in: slots.count)
        while slots[index].row != 0 {
            if slots[index].low == low, slots[index].high == high { return Int(slots[index].row) }
            index = index + 1 == slots.count ? 0 : index + 1
        }
        slots[index] = Slot(low: low, high: high, row: Int32(clamping: row))
        count += 1
        if count * 4 > slots.count * 3 { grow() }
        return nil
    }

    /// The slot a fingerprint starts its search at: its low bits scaled to the table, which
    /// need not be a power of two.
    private static func home(_ low: UInt64, in capacity: Int) -> Int {
        Int(truncatingIfNeeded: low.multipliedFullWidth(by: UInt64(capacity)).high)
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        for slot in old where slot.row != 0 {
            var index = Self.home(slot.low, in: slots.count)
            while slots[index].row != 0 { index = index + 1 == slots.count ? 0 : index + 1 }
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

    /// Two SipHashes of the bytes, told apart by a leading byte: 64 bits to place and compare, 32
    /// more to compare.
    private static func fingerprint(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt32) {
        var first = Hasher()
        first.combine(bytes: bytes)
        var second = Hasher()
        second.combine(UInt8(1))
        second.combine(bytes: bytes)
        return (UInt64(UInt(bitPattern: first.finalize())), UInt32(truncatingIfNeeded: second.finalize()))
    }
}
