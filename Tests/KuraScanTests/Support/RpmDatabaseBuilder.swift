import Foundation
import GRDB

/// Writes an rpm SQLite database as rpm 4.16+ does: table `Packages (hnum, blob)`, one
/// header blob per package (index entries and data, big-endian).
enum RpmDatabaseBuilder {
    struct Package {
        let name: String
        let epoch: Int32?
        let version: String
        let release: String
        let arch: String
        let sourceRPM: String
    }

    static func database(_ packages: [Package], at url: URL) throws {
        let queue = try DatabaseQueue(path: url.path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
            for package in packages {
                try db.execute(sql: "INSERT INTO Packages (blob) VALUES (?)", arguments: [Data(header(package))])
            }
        }
    }

    static func header(_ package: Package) -> [UInt8] {
        var index: [UInt8] = []
        var data: [UInt8] = []
        func bigEndian(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
        func add(tag: Int32, type: Int32, _ bytes: [UInt8]) {
            if type == 4 { while data.count % 4 != 0 { data.append(0) } }
            index += bigEndian(tag) + bigEndian(type) + bigEndian(Int32(data.count)) + bigEndian(1)
            data += bytes
        }
        func string(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }
        add(tag: 1000, type: 6, string(package.name))
        add(tag: 1001, type: 6, string(package.version))
        add(tag: 1002, type: 6, string(package.release))
        if let epoch = package.epoch { add(tag: 1003, type: 4, bigEndian(epoch)) }
        add(tag: 1022, type: 6, string(package.arch))
        add(tag: 1044, type: 6, string(package.sourceRPM))
        return bigEndian(Int32(index.count / 16)) + bigEndian(Int32(data.count)) + index + data
    }
}
