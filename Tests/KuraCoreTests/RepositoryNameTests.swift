import KuraCore
import Testing

@Suite("RepositoryName, Tag, Reference")
struct RepositoryNameTests {
    @Test(arguments: [
        "a", "library/ubuntu", "a.b_c__d--e/f-g", "team/sub/app", "0/1/2", "a---b",
        String(repeating: "a", count: 255),
    ])
    func acceptsValidNames(_ name: String) throws {
        let parsed = try RepositoryName(parsing: name)
        #expect(parsed.value == name)
    }

    @Test(arguments: [
        "A", "a//b", "/a", "a/", "a..b", "a___b", "-a", "a-", "../a", "a/../b", "a:b", "a b", "a_-b", ".a",
        "ü", "a%2fb",
    ])
    func rejectsInvalidNames(_ name: String) {
        #expect(throws: RepositoryNameError.invalid(name)) { try RepositoryName(parsing: name) }
    }

    @Test func enforcesLengthLimit() {
        let long = String(repeating: "a", count: 256)
        #expect(throws: RepositoryNameError.tooLong(256)) { try RepositoryName(parsing: long) }
        #expect(throws: RepositoryNameError.empty) { try RepositoryName(parsing: "") }
    }

    @Test func exposesComponents() throws {
        let name = try RepositoryName(parsing: "team/app/web")
        #expect(name.components == ["team", "app", "web"])
        #expect(name.firstComponent == "team")
    }

    @Test(arguments: ["latest", "v1.2.3", "_x", "A-b_c.d", String(repeating: "t", count: 128)])
    func acceptsValidTags(_ tag: String) throws {
        #expect(try Tag(parsing: tag).value == tag)
    }

    @Test(arguments: ["", ".x", "-x", "a/b", "a:b", String(repeating: "t", count: 129), "tag!"])
    func rejectsInvalidTags(_ tag: String) {
        #expect(throws: TagError.invalid(tag)) { try Tag(parsing: tag) }
    }

    @Test func referenceIsTagOrDigest() throws {
        let hex = String(repeating: "1", count: 64)
        #expect(try Reference(parsing: "v1").tag?.value == "v1")
        #expect(try Reference(parsing: "sha256:\(hex)").digest?.encoded == hex)
        let badDigest = #expect(throws: RegistryError.self) { try Reference(parsing: "sha256:xyz") }
        #expect(badDigest?.code == .digestInvalid)
        let badTag = #expect(throws: RegistryError.self) { try Reference(parsing: "-bad") }
        #expect(badTag?.code == .manifestInvalid)
    }

    @Test func errorCodesMapToSpecStatuses() {
        #expect(OCIErrorCode.blobUnknown.httpStatus == 404)
        #expect(OCIErrorCode.blobUploadUnknown.httpStatus == 404)
        #expect(OCIErrorCode.digestInvalid.httpStatus == 400)
        #expect(OCIErrorCode.nameInvalid.httpStatus == 400)
        #expect(OCIErrorCode.unauthorized.httpStatus == 401)
        #expect(OCIErrorCode.denied.httpStatus == 403)
        #expect(OCIErrorCode.unsupported.httpStatus == 405)
        #expect(OCIErrorCode.tooManyRequests.httpStatus == 429)
        #expect(OCIErrorCode.rangeInvalid.httpStatus == 416)
        #expect(RegistryError(.blobUnknown).message == "blob unknown to registry")
    }
}
