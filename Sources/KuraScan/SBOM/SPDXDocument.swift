public import Foundation

/// A scan report as an SPDX 2.3 JSON document: the image as a package the document
/// describes, which contains one package per detected package, each with its purl.
public struct SPDXDocument: Encodable, Sendable {
    public static let mediaType = "application/spdx+json"

    struct CreationInfo: Encodable {
        let created: String
        let creators = ["Tool: kura"]
    }

    struct ExternalReference: Encodable {
        let referenceCategory = "PACKAGE-MANAGER"
        let referenceType = "purl"
        let referenceLocator: String
    }

    struct Package: Encodable {
        let name: String
        let SPDXID: String
        let versionInfo: String?
        let downloadLocation = "NOASSERTION"
        let filesAnalyzed = false
        let primaryPackagePurpose: String
        let externalRefs: [ExternalReference]?
        let comment: String?
    }

    struct Relationship: Encodable {
        let spdxElementId: String
        let relationshipType: String
        let relatedSpdxElement: String
    }

    let spdxVersion = "SPDX-2.3"
    let dataLicense = "CC0-1.0"
    let SPDXID = "SPDXRef-DOCUMENT"
    let name: String
    let documentNamespace: String
    let creationInfo: CreationInfo
    let packages: [Package]
    let relationships: [Relationship]

    public init(report: ScanReport, imageName: String, serial: UUID = UUID()) {
        name = imageName
        documentNamespace = "https://kura.invalid/spdx/\(imageName.replacingOccurrences(of: ":", with: "-"))-\(serial.uuidString.lowercased())"
        creationInfo = CreationInfo(created: SBOMDates.string(report.scannedAt))
        var packages = [Package(
            name: imageName, SPDXID: "SPDXRef-Image", versionInfo: report.manifest?.description, primaryPackagePurpose: "CONTAINER",
            externalRefs: nil, comment: report.operatingSystem.map { "operating system: \($0.prettyName ?? $0.id)" })]
        var relationships = [Relationship(spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: "SPDXRef-Image")]
        var seen = Set<String>()
        for package in report.packages where seen.insert(package.purl).inserted {
            let id = "SPDXRef-Package-\(packages.count)"
            packages.append(Package(
                name: package.name, SPDXID: id, versionInfo: package.version, primaryPackagePurpose: "LIBRARY",
                externalRefs: [ExternalReference(referenceLocator: package.purl)],
                comment: "layer \(package.layerIndex): \(package.path)"))
            relationships.append(Relationship(spdxElementId: "SPDXRef-Image", relationshipType: "CONTAINS", relatedSpdxElement: id))
        }
        self.packages = packages
        self.relationships = relationships
    }
}
