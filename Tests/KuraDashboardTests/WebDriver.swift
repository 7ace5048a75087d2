import AsyncHTTPClient
import Foundation
import KuraTestSupport
import NIOCore
import NIOHTTP1

/// A headless Chromium driven over the W3C WebDriver protocol (HTTP + JSON) through Debian's
/// chromedriver, which the test starts on a free loopback port and stops afterwards.
final class Browser: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let driver: ChildProcess
    private let base: String
    private let session: String
    /// Where ``screenshot(_:)`` writes its PNG files.
    let screenshots: URL

    private static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    private init(driver: ChildProcess, base: String, session: String, screenshots: URL) {
        self.driver = driver
        self.base = base
        self.session = session
        self.screenshots = screenshots
    }

    /// The folder the console's screenshots go to: `.build/console-screenshots` of the package.
    static var screenshotFolder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/console-screenshots")
    }

    /// Starts chromedriver and a headless Chromium session, runs `body`, and stops both.
    static func with<T>(_ body: (Browser) async throws -> T) async throws -> T {
        let chromedriver = try TestTools.require("chromedriver")
        let chromium = try TestTools.require("chromium")
        let port = try SeaweedFS.freePorts(1)[0]
        let process = try ChildProcess.spawn(chromedriver, ["--port=\(port)", "--allowed-ips=127.0.0.1"])
        let base = "http://127.0.0.1:\(port)"
        defer {
            // chromedriver outlives SIGTERM at times: kill it outright (its browser went at Quit).
            process.signal(SIGKILL)
            process.waitBlocking()
        }
        // Poll until the driver answers (it starts in well under a second).
        _ = try await Poll.until("chromedriver on port \(port)", timeout: .seconds(10)) { () async -> Bool? in
            let status = try? await request(base + "/status", method: .GET, body: nil)
            return (status?["value"] as? [String: Any])?["ready"] as? Bool == true ? true : nil
        }
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": chromium,
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
                                 "--no-first-run", "--disable-extensions"],
                    ],
                ]
            ]
        ]
        let created = try await request(base + "/session", method: .POST, body: capabilities)
        guard let value = created["value"] as? [String: Any], let session = value["sessionId"] as? String else {
            throw Failure(description: "no WebDriver session: \(created)")
        }
        try FileManager.default.createDirectory(at: screenshotFolder, withIntermediateDirectories: true)
        let browser = Browser(driver: process, base: base, session: session, screenshots: screenshotFolder)
        do {
            let result = try await body(browser)
            _ = try? await request("\(base)/session/\(session)", method: .DELETE, body: nil)
            return result
        } catch {
            _ = try? await request("\(base)/session/\(session)", method: .DELETE, body: nil)
            throw error
        }
    }

    // MARK: commands

    func go(_ url: String) async throws { _ = try await command("url", .POST, ["url": url]) }

    var currentURL: String { get async throws { try await command("url", .GET, nil) as? String ?? "" } }

    var pageSource: String { get async throws { try await command("source", .GET, nil) as? String ?? "" } }

    var title: String { get async throws { try await command("title", .GET, nil) as? String ?? "" } }

    func find(_ css: String) async throws -> String {
        let value = try await command("element", .POST, ["using": "css selector", "value": css])
        guard let element = (value as? [String: Any])?[Self.elementKey] as? String else { throw Failure(description: "no element \(css)") }
        return element
    }

    func findAll(_ css: String) async throws -> [String] {
        let value = try await command("elements", .POST, ["using": "css selector", "value": css])
        return (value as? [[String: Any]] ?? []).compactMap { $0[Self.elementKey] as? String }
    }

    func click(_ css: String) async throws { _ = try await command("element/\(try await find(css))/click", .POST, [:]) }

    /// Clicks something that loads a new page and waits (polling, at most 30 s) until the new
    /// document has loaded: the old one carried a mark the new one lacks.
    func follow(_ css: String) async throws {
        _ = try await execute("window.kuraOldPage = true")
        try await click(css)
        try await waitForNewPage("clicking \(css)")
    }

    /// Polls (at most 30 s) until the document marked `kuraOldPage` has been replaced and loaded.
    func waitForNewPage(_ after: String) async throws {
        _ = try await Poll.until("a new page after \(after)", timeout: .seconds(30)) { () async -> Bool? in
            let loaded = try? await execute("return window.kuraOldPage === undefined && document.readyState === 'complete'") as? Bool
            return loaded == true ? true : nil
        }
    }

    func type(_ css: String, _ text: String, clear: Bool = true) async throws {
        let element = try await find(css)
        if clear { _ = try await command("element/\(element)/clear", .POST, [:]) }
        _ = try await command("element/\(element)/value", .POST, ["text": text])
    }

    func text(_ css: String) async throws -> String {
        try await command("element/\(try await find(css))/text", .GET, nil) as? String ?? ""
    }

    func execute(_ script: String) async throws -> Any? {
        try await command("execute/sync", .POST, ["script": script, "args": []])
    }

    /// The text of an open alert/confirm dialog, or `nil` when none is open.
    func alertText() async throws -> String? {
        let answer = try await Self.request("\(base)/session/\(session)/alert/text", method: .GET, body: nil)
        return answer["value"] as? String
    }

    func acceptAlert() async throws { _ = try await command("alert/accept", .POST, [:]) }

    /// The browser's cookies for the current page.
    func cookies() async throws -> [[String: Any]] { try await command("cookie", .GET, nil) as? [[String: Any]] ?? [] }

    func deleteCookies() async throws { _ = try await command("cookie", .DELETE, nil) }

    /// Saves the page as `name.png` in ``screenshots``.
    @discardableResult
    func screenshot(_ name: String) async throws -> URL {
        guard let text = try await command("screenshot", .GET, nil) as? String, let data = Data(base64Encoded: text) else {
            throw Failure(description: "no screenshot")
        }
        let file = screenshots.appendingPathComponent("\(name).png")
        try data.write(to: file)
        return file
    }

    // MARK: plumbing

    private func command(_ path: String, _ method: HTTPMethod, _ body: [String: Any]?) async throws -> Any? {
        let answer = try await Self.request("\(base)/session/\(session)/\(path)", method: method, body: body)
        if let value = answer["value"] as? [String: Any], let error = value["error"] as? String {
            throw Failure(description: "WebDriver \(path): \(error): \(value["message"] ?? "")")
        }
        return answer["value"]
    }

    private static func request(_ url: String, method: HTTPMethod, body: [String: Any]?) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return (try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]) ?? [:]
    }
}

extension Browser {
    /// Submits a form that asks "are you sure?" first: clicks, accepts the dialog (polling
    /// until it opens), and waits for the new page.
    func followConfirming(_ css: String) async throws {
        _ = try await execute("window.kuraOldPage = true")
        try await click(css)
        _ = try await Poll.until("a confirmation dialog after clicking \(css)", timeout: .seconds(30)) { () async -> Bool? in
            (try? await alertText()) == nil ? nil : true
        }
        try await acceptAlert()
        try await waitForNewPage("confirming \(css)")
    }

    /// Chooses `value` in a `<select>` (WebDriver has no command for it).
    func select(_ css: String, _ value: String) async throws {
        _ = try await execute("document.querySelector(\(css.debugDescription)).value = \(value.debugDescription)")
    }
}
