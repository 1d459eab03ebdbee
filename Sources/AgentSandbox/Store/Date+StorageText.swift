import Foundation
import GRDB

extension Date {
    /// The text GRDB stores for a date — "yyyy-MM-dd HH:mm:ss.SSS" in UTC, to the nearest millisecond, as its
    /// `DateFormatter` writes it — computed directly: the audit log writes one per tool call, and the
    /// ICU formatter was most of the cost of an audit row.
    var storageValue: DatabaseValue {
        // As CoreFoundation hands the date to ICU: milliseconds since 1970, plus 0.5, then floored.
        let milliseconds = ((timeIntervalSinceReferenceDate + 978_307_200) * 1000 + 0.5).rounded(.down)
        // 1970 to 9999 (four-digit years, no Julian calendar); anything else keeps GRDB's own formatting.
        guard milliseconds >= 0, milliseconds < 253_402_300_800_000 else { return databaseValue }
        return Self.storageText(milliseconds: Int64(milliseconds)).databaseValue
    }

    /// Civil date and time of a Unix time in milliseconds (proleptic Gregorian, H. Hinnant's days-to-civil).
    static func storageText(milliseconds: Int64) -> String {
        let (days, inDay) = milliseconds.floorDivided(by: 86_400_000)
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        var bytes = [UInt8](repeating: 0, count: 23)
        func put(_ value: Int64, at offset: Int, digits: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(year, at: 0, digits: 4)
        bytes[4] = UInt8(ascii: "-")
        put(month, at: 5, digits: 2)
        bytes[7] = UInt8(ascii: "-")
        put(day, at: 8, digits: 2)
        bytes[10] = UInt8(ascii: " ")
        put(inDay / 3_600_000, at: 11, digits: 2)
        bytes[13] = UInt8(ascii: ":")
        put(inDay / 60_000 % 60, at: 14, digits: 2)
        bytes[16] = UInt8(ascii: ":")
        put(inDay / 1000 % 60, at: 17, digits: 2)
        bytes[19] = UInt8(ascii: ".")
        put(inDay % 1000, at: 20, digits: 3)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Int64 {
    /// Quotient rounded toward negative infinity, and the (non-negative) remainder.
    fileprivate func floorDivided(by divisor: Int64) -> (Int64, Int64) {
        let quotient = self / divisor - (self % divisor < 0 ? 1 : 0)
        return (quotient, self - quotient * divisor)
    }
}
