import Foundation

/// A CVSS vector string split into its metrics: `CVSS:<version>/M1:V1/M2:V2…`, each metric
/// at most once.
struct CVSSVector {
    let version: String
    let metrics: [String: String]

    /// Why a vector was refused; the CVSS3 and CVSS4 errors wrap it.
    struct Malformed: Error {
        let reason: String
    }

    init(_ vector: String, versions: Set<String>) throws(Malformed) {
        var parts = vector.trimmingCharacters(in: .whitespaces).split(separator: "/").map(String.init)
        guard let prefix = parts.first, prefix.hasPrefix("CVSS:"), versions.contains(String(prefix.dropFirst(5))) else {
            throw Malformed(reason: "it does not start with " + versions.sorted().map { "CVSS:\($0)" }.joined(separator: " or "))
        }
        version = String(prefix.dropFirst(5))
        parts.removeFirst()
        var metrics: [String: String] = [:]
        for part in parts {
            let pair = part.split(separator: ":", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw Malformed(reason: "'\(part)' is not METRIC:VALUE") }
            guard metrics[pair[0]] == nil else { throw Malformed(reason: "\(pair[0]) appears twice") }
            metrics[pair[0]] = pair[1]
        }
        self.metrics = metrics
    }
}
