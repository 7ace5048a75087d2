import HTTPTypes
import Hummingbird
import KuraAccess
import KuraHTTP
import NIOCore

/// The console's stylesheet and script, from the binary (no CDN, no build step).
extension Dashboard {
    func registerStatic(on router: Router<KuraRequestContext>) {
        let files: [String: (String, [UInt8])] = [
            "console.css": ("text/css; charset=utf-8", PackageResources.console_css),
            "console.js": ("text/javascript; charset=utf-8", PackageResources.console_js),
        ]
        router.get("/static/:file") { request, context in
            guard let file = context.parameters.get("file"), let (type, bytes) = files[file] else {
                return secured(errorPage(AdminError.notFound("no such file"), context: context), isTLS: false)
            }
            let headers: HTTPFields = [.contentType: type, .contentLength: String(bytes.count), .cacheControl: "public, max-age=3600"]
            return secured(Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))), isTLS: false)
        }
    }
}
