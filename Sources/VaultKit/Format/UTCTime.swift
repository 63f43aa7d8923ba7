/// A UTC time to the second, written exactly `YYYY-MM-DDTHH:MM:SSZ` (FORMAT.md §5).
public struct UTCTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public let seconds: Int64

    /// A time from seconds since the epoch.
    public init(seconds: Int64) { self.seconds = seconds }

    /// Reads exactly the 20-character form: upper-case `T` and `Z`, a real calendar date
    /// (proleptic Gregorian, years 0001–9999: year 0000 is refused, as most date libraries cannot represent it), hours 00–23, minutes and seconds 00–59.
    /// Nil for anything else.
    public init?(exact text: String) {
        let c = Array(text.utf8)
        guard c.count == 20, c[4] == 0x2d, c[7] == 0x2d, c[10] == 0x54, c[13] == 0x3a, c[16] == 0x3a,
              c[19] == 0x5a else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var n = 0
            for i in from..<(from + count) {
                guard c[i] >= 0x30, c[i] <= 0x39 else { return nil }
                n = n * 10 + Int(c[i] - 0x30)
            }
            return n
        }
        guard let year = number(0, 4), year >= 1, let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), day >= 1, day <= UTCTime.daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60 else { return nil }
        let days = UTCTime.daysFromCivil(year: year, month: month, day: day)
        seconds = Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// The exact 20-character form.
    public var text: String {
        let days = Int(seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400)
        let rest = Int(seconds - Int64(days) * 86400)
        let (y, m, d) = UTCTime.civil(fromDays: days)
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rest / 3600, 2)):\(pad(rest / 60 % 60, 2)):\(pad(rest % 60, 2))Z"
    }

    /// The exact form.
    public var description: String { text }

    /// This time plus `seconds`.
    public func adding(seconds delta: Int64) -> UTCTime { UTCTime(seconds: seconds + delta) }

    public static func < (a: UTCTime, b: UTCTime) -> Bool { a.seconds < b.seconds }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
