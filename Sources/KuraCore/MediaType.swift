/// Media types the registry understands.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"
    public static let ociLayerTar = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociNondistributableLayerTar = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let ociNondistributableLayerGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let ociNondistributableLayerZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    public static let json = "application/json"
    public static let octetStream = "application/octet-stream"

    /// Manifest media types that list children (indexes).
    public static let indexTypes: Set<String> = [ociIndex, dockerManifestList]
    /// Manifest media types that describe one image or artifact.
    public static let imageManifestTypes: Set<String> = [ociManifest, dockerManifest]
    /// Every manifest media type accepted on PUT.
    public static let manifestTypes: Set<String> = indexTypes.union(imageManifestTypes)

    /// Layer media types whose blobs need not be present in the registry.
    public static let nondistributableLayerTypes: Set<String> = [
        ociNondistributableLayerTar, ociNondistributableLayerGzip, ociNondistributableLayerZstd,
        dockerForeignLayerGzip,
    ]
}
