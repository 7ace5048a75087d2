import Crypto
import Foundation
import KuraCore
import NIOSSL
import SwiftASN1
import X509

/// A self-signed certificate for a quick TLS start (`kura serve --tls-self-signed`) and for
/// tests: an ECDSA P-256 key and a certificate naming the given hosts (DNS names and IP
/// addresses) as subject alternative names.
public enum SelfSignedCertificate {
    /// Generates a key and certificate, writes them as PEM (the key with mode 0600) and
    /// returns the certificate's SHA-256 fingerprint. Writes go to a temporary file first,
    /// so a watcher never reads half a file.
    @discardableResult
    public static func generate(
        hosts: [String], certificatePath: String, keyPath: String, validFor days: Int = 365, commonName: String = "Kura self-signed"
    ) throws -> String {
        let key = P256.Signing.PrivateKey()
        let certificateKey = Certificate.PrivateKey(key)
        let name = try DistinguishedName { CommonName(commonName) }
        var alternativeNames: [GeneralName] = []
        for host in Set(hosts).sorted() {
            if let address = IPAddress(parsing: host) {
                let bytes = address.isIPv4 ? Array(address.bytes[12...]) : address.bytes
                alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
            } else {
                alternativeNames.append(.dnsName(host))
            }
        }
        // No KeyUsage: OpenSSL and BoringSSL only accept a self-signed certificate as its own
        // issuer (trusted directly) when it has none or one that allows certificate signing.
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(alternativeNames)
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: certificateKey.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(TimeInterval(days) * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: certificateKey)
        let certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
        try write(key.pemRepresentation + "\n", to: keyPath, permissions: 0o600)
        try write(certificatePEM, to: certificatePath, permissions: 0o644)
        return try TLSCertificateStore.fingerprint(of: NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem))
    }

    private static func write(_ text: String, to path: String, permissions: Int) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let temporary = "\(path).tmp-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: permissions]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        if rename(temporary, path) != 0 {
            let code = errno
            try? FileManager.default.removeItem(atPath: temporary)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
    }
}
