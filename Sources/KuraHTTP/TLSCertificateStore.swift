import Crypto
import Foundation
public import NIOSSL
import Synchronization

/// A TLS listener's certificate chain and key, read from PEM files and swapped in place
/// when the files change. Every new handshake asks for the current pair (through
/// `TLSConfiguration.sslContextCallback`), so a reload reaches new connections at once
/// while connections already open keep the session they negotiated.
public final class TLSCertificateStore: Sendable {
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// What was loaded, and the file stamps it was loaded from.
    private struct Loaded {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var stamp: FileStamp
        var fingerprint: String
    }

    /// Modification time and size of both files: a change in either means "read again".
    struct FileStamp: Equatable {
        var certificate: [Double]
        var key: [Double]
    }

    public let files: ListenerConfiguration.TLSFiles
    private let current: Mutex<Loaded>
    /// The stamp of the last failed attempt, so a broken pair is reported once, not every poll.
    private let lastFailure = Mutex<FileStamp?>(nil)

    /// Reads the files; throws (with the file and the reason) when they are unreadable, not
    /// PEM, or the key does not belong to the certificate.
    public init(files: ListenerConfiguration.TLSFiles) throws {
        self.files = files
        current = Mutex(try Self.load(files))
    }

    /// The SHA-256 fingerprint of the leaf certificate now served, as `AB:CD:…`.
    public var fingerprint: String { current.withLock { $0.fingerprint } }

    /// Reads the files again and serves them to new handshakes. Throws, keeping the current
    /// pair, when the new files are not a usable pair (half-written, mismatched).
    /// Returns whether the certificate changed.
    @discardableResult
    public func reload() throws -> Bool {
        let loaded = try Self.load(files)
        return current.withLock { current in
            let changed = current.fingerprint != loaded.fingerprint
            current = loaded
            return changed
        }
    }

    /// Reloads when either file's modification time or size changed since the last load.
    /// A failure is thrown once per change of the files, then stays quiet until they change again.
    @discardableResult
    func reloadIfChanged() throws -> Bool {
        let stamp = Self.fileStamp(files)
        if current.withLock({ $0.stamp == stamp }) || lastFailure.withLock({ $0 == stamp }) { return false }
        do {
            return try reload()
        } catch {
            lastFailure.withLock { $0 = stamp }
            throw error
        }
    }

    /// A server TLS configuration (HTTP/2 and HTTP/1.1 by ALPN are added by the channel)
    /// whose every handshake uses the current pair.
    func serverConfiguration() -> TLSConfiguration {
        let (chain, key) = current.withLock { ($0.chain, $0.key) }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.sslContextCallback = { [weak self] _, promise in
            guard let self else { return promise.succeed(.noChanges) }
            var override = NIOSSLContextConfigurationOverride()
            self.current.withLock { current in
                override.certificateChain = current.chain.map { .certificate($0) }
                override.privateKey = .privateKey(current.key)
            }
            promise.succeed(override)
        }
        return configuration
    }

    private static func load(_ files: ListenerConfiguration.TLSFiles) throws -> Loaded {
        let stamp = fileStamp(files)
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMBytes(Array(try Data(contentsOf: URL(fileURLWithPath: files.certificatePath)))) } catch {
            throw LoadError(description: "cannot read TLS certificate \(files.certificatePath): \(error)")
        }
        guard let leaf = chain.first else { throw LoadError(description: "no certificate in \(files.certificatePath)") }
        do { key = try NIOSSLPrivateKey(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: files.keyPath))), format: .pem) } catch {
            throw LoadError(description: "cannot read TLS key \(files.keyPath): \(error)")
        }
        // Building a context checks that the key belongs to the certificate.
        do {
            _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        } catch {
            throw LoadError(description: "TLS key \(files.keyPath) does not fit certificate \(files.certificatePath): \(error)")
        }
        return Loaded(chain: chain, key: key, stamp: stamp, fingerprint: try fingerprint(of: leaf))
    }

    /// `AB:CD:…` over the certificate's DER bytes, as `openssl x509 -fingerprint -sha256` prints it.
    public static func fingerprint(of certificate: NIOSSLCertificate) throws -> String {
        SHA256.hash(data: try certificate.toDERBytes()).map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    private static func fileStamp(_ files: ListenerConfiguration.TLSFiles) -> FileStamp {
        func of(_ path: String) -> [Double] {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return [] }
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = (attributes[.size] as? NSNumber)?.doubleValue ?? 0
            return [modified, size]
        }
        return FileStamp(certificate: of(files.certificatePath), key: of(files.keyPath))
    }
}
