import Foundation
import Testing
import ZIPFoundation

@testable import KuraScan

/// The jar detector opens an archive only when ``ZipEndRecord`` says ZIPFoundation will
/// (its initialiser leaks when it throws): the two must agree on every input, valid or not.
@Suite struct ZipEndRecordTests {
    private func zipFoundationOpens(_ data: Data) -> Bool {
        (try? Archive(data: data, accessMode: .read, pathEncoding: nil)) != nil
    }

    @Test func agreesWithZIPFoundationOnTruncationsAndDamage() throws {
        let jar = try PackageSamples.jar(group: "org.example", artifact: "lib", version: "1.2.3")
        var inputs: [Data] = (0...jar.count).map { jar.prefix($0) }  // every truncation
        inputs += (1..<64).map { jar.dropFirst($0) }
        // Every byte of the end record (and a little before it) set to 0x00, 0xFF and 'P'.
        for position in max(0, jar.count - 40)..<jar.count {
            for value: UInt8 in [0x00, 0xFF, 0x50] {
                var damaged = jar
                damaged[damaged.startIndex + position] = value
                inputs.append(damaged)
            }
        }
        // A comment longer than what follows, one that fits, and a second signature in it.
        var longComment = jar
        longComment[longComment.endIndex - 2] = 0x10
        inputs.append(longComment)
        var withComment = jar
        withComment[withComment.endIndex - 2] = 4
        inputs.append(withComment + Data("note".utf8))
        inputs.append(jar + Data(ZipEndRecord.signature))
        inputs.append(Data(ZipEndRecord.signature + [UInt8](repeating: 0, count: 18)))
        inputs.append(Data("not a zip at all, just text long enough".utf8))

        var opened = 0
        for input in inputs {
            let expected = zipFoundationOpens(input)
            #expect(ZipEndRecord.isReadable(input) == expected, "\(input.count) bytes")
            if expected { opened += 1 }
        }
        #expect(opened > 1 && opened < inputs.count, "both answers occur")
        #expect(ZipEndRecord.isReadable(jar))
    }
}
