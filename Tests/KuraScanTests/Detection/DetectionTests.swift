import Foundation
import KuraCore
import KuraScan
import Testing

/// Detection on images built here, holding real package databases.
@Suite struct DetectionTests {
    func detect(_ image: TestImage) async throws -> (OperatingSystem?, [Package]) {
        let scanner = ImageScanner(database: try AdvisoryDatabase.inMemory())
        let (os, packages, _) = try await scanner.detect(layers: image.layers, open: image.open)
        return (os, packages)
    }

    /// This machine's own dpkg database: every installed package, with its source package.
    @Test func dpkgStatusFromThisMachine() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            try await image.addLayer(["etc/os-release": .symlink(to: "../usr/lib/os-release"), "usr/lib/os-release": .copy(from: "/etc/os-release")])
            try await image.addLayer(["var/lib/dpkg/status": .copy(from: "/var/lib/dpkg/status")])
            let (os, packages) = try await detect(image)
            #expect(os?.id == "debian")
            #expect(os?.ecosystem == .debian)

            // Independently: every stanza dpkg marks installed, by name and version.
            let status = try String(contentsOfFile: "/var/lib/dpkg/status", encoding: .utf8)
            var expected: [String: String] = [:]
            for stanza in status.components(separatedBy: "\n\n") {
                let lines = stanza.split(separator: "\n")
                guard let name = lines.first(where: { $0.hasPrefix("Package: ") })?.dropFirst(9),
                      let version = lines.first(where: { $0.hasPrefix("Version: ") })?.dropFirst(9),
                      lines.contains(where: { $0.hasPrefix("Status: ") && $0.hasSuffix(" installed") }) else { continue }
                expected[String(name)] = String(version)
            }
            #expect(expected.count > 50)
            #expect(Dictionary(packages.map { ($0.name, $0.version) }, uniquingKeysWith: { _, last in last }) == expected)
            #expect(packages.allSatisfy { $0.ecosystem == .debian && $0.layerIndex == 1 && $0.path == "var/lib/dpkg/status" })

            let libssl = try #require(packages.first { $0.name == "libssl3" })
            #expect(libssl.sourceName == "openssl")
            #expect(libssl.purl.hasPrefix("pkg:deb/debian/libssl3@"))
            #expect(libssl.purl.contains("distro=debian-12") && libssl.purl.contains("upstream=openssl"))
            #expect(packages.first { $0.name == "libc6" }?.sourceName == "glibc")
        }
    }

    @Test func dpkgSourceVersionInParenthesesAndNotInstalledStanzas() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            let status = PackageSamples.dpkgStanza("libc6", "2.36-9+deb12u1", source: "glibc")
                + "\n" + PackageSamples.dpkgStanza("libpython3.11", "3.11.2-6+b1", source: "python3.11 (3.11.2-6)")
                + "\n" + PackageSamples.dpkgStanza("removed-thing", "1.0", status: "deinstall ok config-files")
            try await image.addLayer(["var/lib/dpkg/status": .text(status), "etc/os-release": .text(PackageSamples.debianOSRelease)])
            let (_, packages) = try await detect(image)
            #expect(packages.map(\.name).sorted() == ["libc6", "libpython3.11"])
            let python = try #require(packages.first { $0.name == "libpython3.11" })
            #expect(python.sourceName == "python3.11" && python.sourceVersion == "3.11.2-6" && python.version == "3.11.2-6+b1")
        }
    }

    /// Distroless images keep one file per package in status.d.
    @Test func dpkgStatusDirectory() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            try await image.addLayer([
                "etc/os-release": .text(PackageSamples.debianOSRelease.replacingOccurrences(of: "Debian GNU/Linux 12 (bookworm)", with: "Distroless")),
                "var/lib/dpkg/status.d/base-files": .text(PackageSamples.dpkgStanza("base-files", "12.4+deb12u5")),
                "var/lib/dpkg/status.d/libssl3": .text(PackageSamples.dpkgStanza("libssl3", "3.0.11-1~deb12u2", source: "openssl")),
                "var/lib/dpkg/status.d/libssl3.md5sums": .text("d41d8cd98f00b204e9800998ecf8427e  usr/lib/x86_64-linux-gnu/libssl.so.3\n"),
            ])
            let (os, packages) = try await detect(image)
            #expect(os?.prettyName == "Distroless" && os?.versionID == "12")
            #expect(packages.map(\.name).sorted() == ["base-files", "libssl3"])
        }
    }

    @Test func apkInstalledDatabase() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            let installed = PackageSamples.apkStanza("musl", "1.2.4-r2", origin: "musl")
                + PackageSamples.apkStanza("libcrypto3", "3.1.2-r0", origin: "openssl")
                + PackageSamples.apkStanza("libssl3", "3.1.2-r0", origin: "openssl")
            try await image.addLayer(["etc/os-release": .text(PackageSamples.alpineOSRelease), "lib/apk/db/installed": .text(installed)], compression: .none)
            let (os, packages) = try await detect(image)
            #expect(os?.advisoryRelease == "3.18")
            #expect(packages.map(\.name) == ["musl", "libcrypto3", "libssl3"])
            #expect(packages.allSatisfy { $0.ecosystem == .alpine })
            let libcrypto = try #require(packages.first { $0.name == "libcrypto3" })
            #expect(libcrypto.sourceName == "openssl" && libcrypto.version == "3.1.2-r0")
            #expect(libcrypto.purl == "pkg:apk/alpine/libcrypto3@3.1.2-r0?arch=x86_64&distro=alpine-3.18.4")
        }
    }

    @Test func pythonDistributionsAndAWhiteoutInALaterLayer() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            let site = "usr/local/lib/python3.11/site-packages"
            try await image.addLayer([
                "\(site)/requests-2.28.0.dist-info/METADATA": .text(PackageSamples.pythonMetadata("requests", "2.28.0")),
                "\(site)/Flask_Login-0.6.2.dist-info/METADATA": .text(PackageSamples.pythonMetadata("Flask_Login", "0.6.2")),
                "\(site)/six-1.16.0.egg-info/PKG-INFO": .text(PackageSamples.pythonMetadata("six", "1.16.0")),
            ])
            try await image.addLayer([
                "\(site)/urllib3-1.26.5.dist-info/METADATA": .text(PackageSamples.pythonMetadata("urllib3", "1.26.5")),
            ], compression: .zstd)
            // `pip uninstall requests` in a third layer: a whiteout of the dist-info directory.
            try await image.addLayer(["\(site)/requests-2.28.0.dist-info": .whiteout])
            let (_, packages) = try await detect(image)
            let found = Dictionary(uniqueKeysWithValues: packages.map { ($0.name, $0) })
            #expect(Set(found.keys) == ["flask-login", "six", "urllib3"])
            #expect(found["flask-login"]?.version == "0.6.2" && found["flask-login"]?.purl == "pkg:pypi/flask-login@0.6.2")
            #expect(found["urllib3"]?.layerIndex == 1)
            #expect(found["six"]?.layerIndex == 0)
        }
    }

    @Test func npmPackagesInNodeModules() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            let app = "usr/src/app"
            try await image.addLayer([
                "\(app)/package.json": .text(PackageSamples.packageJSON("my-app", "1.0.0")),
                "\(app)/node_modules/lodash/package.json": .text(PackageSamples.packageJSON("lodash", "4.17.20")),
                "\(app)/node_modules/lodash/fp/package.json": .text("{\"main\": \"../fp.js\"}"),
                "\(app)/node_modules/@babel/core/package.json": .text(PackageSamples.packageJSON("@babel/core", "7.22.5")),
                "\(app)/node_modules/express/node_modules/debug/package.json": .text(PackageSamples.packageJSON("debug", "2.6.9")),
                "\(app)/node_modules/broken/package.json": .text("{ not json"),
            ])
            let (_, packages) = try await detect(image)
            #expect(Set(packages.map { "\($0.name)@\($0.version)" }) == ["lodash@4.17.20", "@babel/core@7.22.5", "debug@2.6.9"])
            #expect(packages.first { $0.name == "@babel/core" }?.purl == "pkg:npm/%40babel/core@7.22.5")
            #expect(packages.allSatisfy { $0.ecosystem == .npm })
        }
    }

    /// A Go program compiled here: its module dependencies and Go version come from the
    /// build info in the binary, as `go version -m` shows them.
    @Test func goBinaryBuildInfo() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let binary = try await PackageSamples.goBinary(textVersion: "v0.3.7", in: folder)
            let goVersion = try await PackageSamples.goVersion()
            let image = try TestImage(root: folder)
            try await image.addLayer(["etc/os-release": .text(PackageSamples.debianOSRelease)])
            try await image.addLayer(["usr/local/bin/app": .copy(from: binary.path, mode: 0o755), "usr/local/bin/script.sh": .text("#!/bin/sh\necho hi\n" + String(repeating: "#", count: 2000), mode: 0o755)])
            let (_, packages) = try await detect(image)
            let go = packages.filter { $0.ecosystem == .go }
            #expect(Set(go.map { "\($0.name)@\($0.version)" }) == ["golang.org/x/text@v0.3.7", "stdlib@v\(goVersion.dropFirst(2))"])
            #expect(go.allSatisfy { $0.layerIndex == 1 && $0.path == "usr/local/bin/app" })
            #expect(go.first { $0.name == "golang.org/x/text" }?.purl == "pkg:golang/golang.org/x/text@v0.3.7")
        }
    }

    @Test func javaArchivesIncludingNestedOnes() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let log4j = try PackageSamples.jar(group: "org.apache.logging.log4j", artifact: "log4j-core", version: "2.14.1")
            let guava = try PackageSamples.jar(group: "com.google.guava", artifact: "guava", version: "31.1-jre", withPom: false)
            let fat = try PackageSamples.jar(group: "com.example", artifact: "service", version: "1.2.0", nested: [
                "BOOT-INF/lib/log4j-core-2.14.1.jar": log4j, "BOOT-INF/lib/guava-31.1-jre.jar": guava,
            ])
            let image = try TestImage(root: folder)
            try await image.addLayer(["opt/app/service.jar": .bytes(Array(fat))])
            try await image.addLayer(["usr/share/java/commons-io-2.11.0.jar": .bytes(Array(try PackageSamples.jar(group: "commons-io", artifact: "commons-io", version: "2.11.0")))])
            let (_, packages) = try await detect(image)
            let found = Set(packages.map { "\($0.name)@\($0.version)" })
            #expect(found == [
                "com.example:service@1.2.0", "org.apache.logging.log4j:log4j-core@2.14.1", "com.google.guava:guava@31.1-jre",
                "commons-io:commons-io@2.11.0",
            ])
            let nested = try #require(packages.first { $0.name == "org.apache.logging.log4j:log4j-core" })
            #expect(nested.path == "opt/app/service.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar")
            #expect(nested.purl == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
            #expect(packages.first { $0.name == "commons-io:commons-io" }?.layerIndex == 1)
        }
    }

    /// RHEL 9's SQLite rpm database, written here as rpm writes it.
    @Test func rpmSQLiteDatabase() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let rpmdb = folder.appendingPathComponent("rpmdb.sqlite")
            try RpmDatabaseBuilder.database([
                .init(name: "openssl-libs", epoch: 1, version: "3.0.7", release: "24.el9", arch: "x86_64", sourceRPM: "openssl-3.0.7-24.el9.src.rpm"),
                .init(name: "bash", epoch: nil, version: "5.1.8", release: "6.el9_1", arch: "x86_64", sourceRPM: "bash-5.1.8-6.el9_1.src.rpm"),
            ], at: rpmdb)
            let image = try TestImage(root: folder)
            try await image.addLayer([
                "etc/os-release": .text("NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\n"),
                "var/lib/rpm/rpmdb.sqlite": .copy(from: rpmdb.path),
            ])
            let (os, packages) = try await detect(image)
            #expect(os?.ecosystem == .rocky)
            #expect(packages.map(\.name) == ["openssl-libs", "bash"])
            let openssl = try #require(packages.first)
            #expect(openssl.version == "1:3.0.7-24.el9" && openssl.sourceName == "openssl" && openssl.ecosystem == .rocky)
            #expect(openssl.purl == "pkg:rpm/rocky/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=rocky-9.3&epoch=1")
            #expect(packages[1].version == "5.1.8-6.el9_1")
        }
    }

    @Test func operatingSystemFromOSRelease() {
        let os = OperatingSystem(osRelease: "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\n# comment\n")
        #expect(os?.id == "rocky" && os?.ecosystem == .rocky && os?.advisoryRelease == "9")
        #expect(OperatingSystem(osRelease: "ID=ubuntu\nVERSION_ID=\"22.04\"")?.advisoryRelease == "22.04")
        #expect(OperatingSystem(osRelease: "ID=amzn\nVERSION_ID=\"2023\"")?.ecosystem == nil)
        #expect(OperatingSystem(osRelease: "NAME=nothing") == nil)
    }
}
