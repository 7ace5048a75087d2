@testable import KuraScan
import Testing

/// Base scores published by NVD for real CVEs, and the specification's rounding example.
@Suite struct CVSS3Tests {
    @Test(arguments: [
        // CVE-2021-44228 (Log4Shell)
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, Severity.critical),
        // CVE-2014-0160 (Heartbleed)
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, .high),
        // CVE-2023-0286 (openssl X.400 type confusion)
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H", 7.4, .high),
        // CVE-2021-3156 (sudo Baron Samedit)
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, .high),
        // CVE-2022-1292 (openssl c_rehash)
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, .critical),
        // CVE-2020-1967 (openssl SSL_check_chain)
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, .high),
        // Scope changed with reduced impact: CVE-2019-11358 (jQuery prototype pollution)
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, .medium),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, .low),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, .none),
        ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4, .medium),
        // Temporal metrics after the base ones are allowed and do not change the base score.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/E:U/RL:O/RC:C", 7.5, .high),
    ])
    func baseScore(vector: String, score: Double, severity: Severity) throws {
        let cvss = try CVSS3(vector: vector)
        #expect(cvss.baseScore == score)
        #expect(cvss.severity == severity)
    }

    @Test func roundUpAvoidsFloatingPointError() {
        #expect(CVSS3.roundUp(4.000_000_000_1) == 4.0)
        #expect(CVSS3.roundUp(4.02) == 4.1)
        #expect(CVSS3.roundUp(4.0) == 4.0)
    }

    @Test(arguments: [
        "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A",
    ])
    func invalidVectorsAreRejected(vector: String) {
        #expect(throws: CVSS3.InvalidVector.self) { try CVSS3(vector: vector) }
    }

    @Test func severityLabels() {
        #expect(Severity(label: "Moderate") == .medium)
        #expect(Severity(label: "important") == .high)
        #expect(Severity(label: "negligible") == .low)
        #expect(Severity(label: "whatever") == .unknown)
        #expect(Severity.critical > .high && Severity.low > .none && Severity.none > .unknown)
    }
}
