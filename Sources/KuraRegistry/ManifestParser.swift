import Foundation
import KuraCore

/// Parses and validates manifest bytes: OCI image manifest and index, Docker schema 2
/// manifest and manifest list, and OCI artifacts (`artifactType`, `subject`).
///
/// Only the fields the registry relies on are checked; unknown fields are allowed, as the
/// spec requires, and the bytes are stored as they came.
public enum ManifestParser {
    /// - Parameters:
    ///   - bytes: the request body.
    ///   - contentType: the request's `Content-Type`, without parameters, if any.
    public static func parse(_ bytes: some Collection<UInt8>, contentType: String?) throws -> ParsedManifest {
        do {
            try StrictJSON.validate(bytes)
        } catch {
            throw RegistryError(.manifestInvalid, "manifest is not strict JSON", detail: error.description)
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw RegistryError(.manifestInvalid, "manifest is not valid JSON of a manifest", detail: describe(error))
        } catch {
            throw RegistryError(.manifestInvalid, "manifest is not valid JSON", detail: "\(error)")
        }

        let headerType = contentType.flatMap { MediaType.manifestTypes.contains($0) ? $0 : nil }
        if let declared = document.mediaType, let headerType, declared != headerType {
            throw RegistryError(
                .manifestInvalid, "mediaType does not match Content-Type",
                detail: "mediaType is \(declared), Content-Type is \(headerType)")
        }
        let inferred: String? = document.manifests != nil ? MediaType.ociIndex : document.config != nil ? MediaType.ociManifest : nil
        guard let mediaType = document.mediaType ?? headerType ?? inferred else {
            throw RegistryError(.manifestInvalid, "manifest has no mediaType and no manifest Content-Type")
        }
        guard MediaType.manifestTypes.contains(mediaType) else {
            throw RegistryError(.manifestInvalid, "unsupported manifest media type", detail: mediaType)
        }
        guard document.schemaVersion == 2 else {
            throw RegistryError(.manifestInvalid, "schemaVersion must be 2")
        }

        let subject = try document.subject.map { try descriptor($0, field: "subject").digest }
        if MediaType.indexTypes.contains(mediaType) {
            guard let manifests = document.manifests else {
                throw RegistryError(.manifestInvalid, "an index needs a manifests array")
            }
            if document.config != nil || document.layers != nil {
                throw RegistryError(.manifestInvalid, "an index has no config or layers")
            }
            let children = try manifests.enumerated().map { try descriptor($1, field: "manifests[\($0)]") }
            return ParsedManifest(
                mediaType: mediaType, blobs: [], children: children, subject: subject,
                artifactType: document.artifactType, annotations: document.annotations ?? [:])
        }
        guard let config = document.config else {
            throw RegistryError(.manifestInvalid, "an image manifest needs a config descriptor")
        }
        guard let layers = document.layers else {
            throw RegistryError(.manifestInvalid, "an image manifest needs a layers array")
        }
        if document.manifests != nil {
            throw RegistryError(.manifestInvalid, "an image manifest has no manifests array")
        }
        let configDescriptor = try descriptor(config, field: "config")
        let layerDescriptors = try layers.enumerated().map { try descriptor($1, field: "layers[\($0)]") }
        return ParsedManifest(
            mediaType: mediaType, blobs: [configDescriptor] + layerDescriptors, children: [], subject: subject,
            artifactType: document.artifactType ?? configDescriptor.mediaType, annotations: document.annotations ?? [:])
    }

    private static func descriptor(_ d: DescriptorDocument, field: String) throws(RegistryError) -> ManifestDescriptor {
        guard let mediaType = d.mediaType, !mediaType.isEmpty else {
            throw RegistryError(.manifestInvalid, "descriptor \(field) has no mediaType")
        }
        guard let digestString = d.digest else {
            throw RegistryError(.manifestInvalid, "descriptor \(field) has no digest")
        }
        let digest: Digest
        do { digest = try Digest(parsing: digestString) } catch {
            throw RegistryError(.manifestInvalid, "descriptor \(field) has an invalid digest", detail: error.description)
        }
        guard let size = d.size, size >= 0 else {
            throw RegistryError(.manifestInvalid, "descriptor \(field) needs a non-negative size")
        }
        return ManifestDescriptor(mediaType: mediaType, digest: digest, size: size, urls: d.urls ?? [])
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private struct Document: Decodable {
        var schemaVersion: Int?
        var mediaType: String?
        var artifactType: String?
        var config: DescriptorDocument?
        var layers: [DescriptorDocument]?
        var manifests: [DescriptorDocument]?
        var subject: DescriptorDocument?
        var annotations: [String: String]?
    }

    private struct DescriptorDocument: Decodable {
        var mediaType: String?
        var digest: String?
        var size: Int64?
        var urls: [String]?
    }
}
