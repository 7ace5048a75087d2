import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOSSL

/// How a command that talks to a server checks its certificate: `--ca-cert FILE` (PEM, one
/// or more certificates; repeatable), else the file `SSL_CERT_FILE` names, else the system's
/// roots; `--insecure` checks nothing (with a warning). Plain http URLs use none of it.
struct ServerTLSOptions: ParsableArguments {
    @Option(name: .customLong("ca-cert"), help: "PEM certificate(s) to trust for https, e.g. DATA/tls/self-signed.crt (repeatable; default: SSL_CERT_FILE, else the system's).")
    var caCertificates: [String] = []
    @Flag(help: "Do not check the server's certificate (prints a warning).") var insecure = false

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The TLS configuration for an HTTP client.
    func tlsConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if insecure {
            FileHandle.standardError.write(Data("warning: --insecure: the server's certificate is not checked; anyone between you and it can read and change the traffic\n".utf8))
            tls.certificateVerification = .none
            return tls
        }
        let files = caCertificates.isEmpty ? [environment["SSL_CERT_FILE"]].compactMap { $0 }.filter { !$0.isEmpty } : caCertificates
        guard !files.isEmpty else { return tls }
        var certificates: [NIOSSLCertificate] = []
        for file in files {
            do { certificates += try NIOSSLCertificate.fromPEMFile(file) } catch {
                let origin = caCertificates.isEmpty ? "SSL_CERT_FILE" : "--ca-cert"
                throw Failure(description: "cannot read \(origin) \(file): \(error)")
            }
        }
        tls.trustRoots = .certificates(certificates)
        return tls
    }

    /// `base` with this TLS configuration.
    func clientConfiguration(_ base: HTTPClient.Configuration = HTTPClient.Configuration()) throws -> HTTPClient.Configuration {
        var configuration = base
        configuration.tlsConfiguration = try tlsConfiguration()
        return configuration
    }
}
