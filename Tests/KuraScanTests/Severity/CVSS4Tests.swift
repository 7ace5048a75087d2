import KuraScan
import Testing

/// CVSS v4.0 scores: FIRST's examples, and vectors scored by the reference algorithm
/// (FIRST's calculator, as the `cvss` Python package implements it).
@Suite struct CVSS4Tests {
    @Test(arguments: [
        // FIRST's CVSS v4.0 examples.
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0),
        ("CVSS:4.0/AV:P/AC:H/AT:P/PR:L/UI:N/VC:N/VI:N/VA:N/SC:N/SI:L/SA:H/E:A", 2.0),
        ("CVSS:4.0/AV:A/AC:H/AT:P/PR:L/UI:A/VC:L/VI:N/VA:N/SC:N/SI:L/SA:H", 2.0),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:N/VI:N/VA:N/SC:H/SI:L/SA:N", 6.2),
        ("CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:N/VI:L/VA:N/SC:N/SI:H/SA:N", 4.9),
        ("CVSS:4.0/AV:P/AC:H/AT:N/PR:L/UI:P/VC:N/VI:H/VA:N/SC:L/SI:H/SA:L", 5.8),
        ("CVSS:4.0/AV:L/AC:L/AT:P/PR:N/UI:N/VC:N/VI:H/VA:H/SC:N/SI:L/SA:H/E:P", 5.6),
        ("CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:H/SI:L/SA:N", 4.3),
        ("CVSS:4.0/AV:L/AC:H/AT:P/PR:N/UI:P/VC:H/VI:N/VA:N/SC:L/SI:L/SA:H", 7.0),
        ("CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:A/VC:L/VI:L/VA:N/SC:H/SI:N/SA:H", 4.8),
        ("CVSS:4.0/AV:L/AC:H/AT:N/PR:H/UI:A/VC:L/VI:H/VA:N/SC:N/SI:N/SA:N", 4.3),
        ("CVSS:4.0/AV:A/AC:H/AT:P/PR:H/UI:A/VC:L/VI:H/VA:H/SC:L/SI:H/SA:N/E:A", 5.8),
        ("CVSS:4.0/AV:A/AC:L/AT:P/PR:L/UI:P/VC:H/VI:H/VA:L/SC:H/SI:N/SA:L", 6.9),
        ("CVSS:4.0/AV:L/AC:H/AT:P/PR:N/UI:A/VC:H/VI:N/VA:N/SC:H/SI:H/SA:N", 6.9),
        ("CVSS:4.0/AV:L/AC:L/AT:P/PR:N/UI:A/VC:L/VI:N/VA:L/SC:L/SI:H/SA:N", 4.3),
        ("CVSS:4.0/AV:P/AC:H/AT:N/PR:L/UI:N/VC:H/VI:L/VA:L/SC:H/SI:L/SA:N", 5.8),
        ("CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:A/VC:H/VI:N/VA:H/SC:N/SI:L/SA:L/E:A", 5.8),
        ("CVSS:4.0/AV:A/AC:H/AT:P/PR:L/UI:P/VC:N/VI:H/VA:N/SC:H/SI:N/SA:H", 5.8),
        ("CVSS:4.0/AV:A/AC:L/AT:P/PR:L/UI:P/VC:N/VI:H/VA:N/SC:N/SI:L/SA:L", 4.1),
        ("CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:H/SA:L", 7.0),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:N/VI:L/VA:N/SC:H/SI:H/SA:H", 6.5),
        ("CVSS:4.0/AV:P/AC:L/AT:N/PR:L/UI:N/VC:L/VI:H/VA:N/SC:N/SI:H/SA:H/E:U", 4.0),
        ("CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:A/VC:N/VI:L/VA:L/SC:H/SI:N/SA:L", 2.0),
        ("CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:P/VC:H/VI:L/VA:H/SC:N/SI:H/SA:L", 7.1),
        ("CVSS:4.0/AV:L/AC:H/AT:N/PR:L/UI:N/VC:H/VI:N/VA:L/SC:L/SI:N/SA:H", 6.9),
        ("CVSS:4.0/AV:P/AC:H/AT:N/PR:N/UI:A/VC:N/VI:H/VA:L/SC:H/SI:L/SA:L", 5.8),
        ("CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:A/VC:N/VI:L/VA:L/SC:L/SI:L/SA:H/E:U", 1.0),
        ("CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:P/VC:N/VI:L/VA:N/SC:L/SI:N/SA:H", 6.2),
        ("CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:A/VC:H/VI:L/VA:H/SC:N/SI:H/SA:L", 5.8),
        ("CVSS:4.0/AV:P/AC:L/AT:P/PR:N/UI:A/VC:L/VI:H/VA:H/SC:H/SI:L/SA:H", 6.0),
        ("CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:N/VC:H/VI:N/VA:L/SC:L/SI:L/SA:L", 5.8),
        ("CVSS:4.0/AV:A/AC:H/AT:N/PR:H/UI:A/VC:L/VI:H/VA:H/SC:H/SI:N/SA:L/E:U", 1.6),
        ("CVSS:4.0/AV:P/AC:H/AT:P/PR:N/UI:P/VC:L/VI:N/VA:H/SC:L/SI:H/SA:H", 5.9),
        ("CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:P/VC:N/VI:L/VA:N/SC:L/SI:L/SA:H", 5.1),
        ("CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:P/VC:N/VI:N/VA:H/SC:H/SI:N/SA:L", 6.8),
        ("CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:A/VC:N/VI:H/VA:N/SC:L/SI:N/SA:L", 5.7),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:H/VI:N/VA:L/SC:L/SI:L/SA:L/E:U", 4.7),
        ("CVSS:4.0/AV:A/AC:H/AT:P/PR:N/UI:N/VC:L/VI:H/VA:L/SC:H/SI:L/SA:N", 7.2),
        ("CVSS:4.0/AV:P/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:H/SC:H/SI:H/SA:L", 7.1),
        ("CVSS:4.0/AV:A/AC:L/AT:N/PR:L/UI:P/VC:H/VI:H/VA:L/SC:N/SI:N/SA:L", 6.9),
        ("CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:N/VC:N/VI:H/VA:N/SC:N/SI:L/SA:N", 5.6),
    ])
    func score(vector: String, expected: Double) throws {
        #expect(try CVSS4(vector: vector).score == expected)
    }

    @Test func severityBands() throws {
        #expect(try CVSS4(vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").severity == .critical)
    }

    @Test(arguments: [
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/ZZ:1",
        "CVSS:4.0/AV:N/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    ])
    func invalidVectorsAreRejected(vector: String) {
        #expect(throws: CVSS4.InvalidVector.self) { try CVSS4(vector: vector) }
    }
}
