import Foundation
import KuraHTTP
import KuraServe
import KuraCore

/// `kura serve --tls-self-signed`: one self-signed certificate in the data folder, for
/// localhost, 127.0.0.1, ::1 and every listener's host, put on each listener that has no
/// certificate of its own.
enum SelfSignedSetup {
    static func apply(to configuration: inout ServerConfiguration) throws {
        let folder = configuration.dataFolder
        let files = ListenerConfiguration.TLSFiles(certificatePath: folder.selfSignedCertificate, keyPath: folder.selfSignedKey)
        var listeners = configuration.effectiveListeners
        var hosts = ["localhost", "127.0.0.1", "::1"]
        for listener in listeners where listener.tls == nil {
            // A wildcard bind is reached by the machine's name.
            hosts.append(["0.0.0.0", "::", ""].contains(listener.host) ? ProcessInfo.processInfo.hostName : listener.host)
        }
        let fingerprint: String
        if FileManager.default.fileExists(atPath: files.certificatePath), FileManager.default.fileExists(atPath: files.keyPath) {
            // Kept across restarts, so clients that trust it keep working.
            fingerprint = try TLSCertificateStore(files: files).fingerprint
        } else {
            fingerprint = try SelfSignedCertificate.generate(hosts: hosts, certificatePath: files.certificatePath, keyPath: files.keyPath)
        }
        for index in listeners.indices where listeners[index].tls == nil { listeners[index].tls = files }
        configuration.listeners = listeners
        FileHandle.standardOutput.write(Data(
            """
            TLS with a self-signed certificate: \(files.certificatePath)
                SHA-256 fingerprint: \(fingerprint)
                trust it with e.g. skopeo --dest-cert-dir / docker's certs.d, or curl --cacert \(files.certificatePath)

            """.utf8))
    }
}
