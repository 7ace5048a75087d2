public import KuraCore
public import NIOCore

/// Bytes on their way somewhere, hashed as they pass (or beside them, on a task of their
/// own), with the last buffer held back until the whole content has been checked against its
/// digest (and its size, when given). A source that sends other bytes than the digest names,
/// or too few or too many, makes the sequence fail before its end, so whoever consumes it
/// never receives a complete body.
///
/// Used wherever bytes arrive from somewhere that could lie or break: the cache tier's fills
/// and cached reads and the mirror's blob copies. Their differences are ``Hooks``. (The
/// pull-through cache's fills go into the store, whose own hash checks them: see
/// ``BlobStore/ingest(_:expected:expectedLength:algorithm:verified:)``.)
public struct DigestVerifyingSequence<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    public typealias Element = ByteBuffer

    /// What a user of the sequence adds to it.
    public struct Hooks: Sendable {
        /// Each buffer as it arrives, before it is hashed and held (copy it to a cache).
        public var received: (@Sendable (ByteBuffer) async -> Void)?
        /// Each buffer just before it is handed on (pace it, count it).
        public var handingOn: (@Sendable (ByteBuffer) async throws -> Void)?
        /// The content checked out; runs before the last buffer is handed on (keep the copy).
        public var verified: (@Sendable () async throws -> Void)?
        /// The content failed the check (or the base failed); runs before the error is
        /// thrown, and may replace a ``DigestVerificationError`` with the caller's own words.
        public var failed: (@Sendable (any Error) async -> (any Error)?)?

        public init(
            received: (@Sendable (ByteBuffer) async -> Void)? = nil, handingOn: (@Sendable (ByteBuffer) async throws -> Void)? = nil,
            verified: (@Sendable () async throws -> Void)? = nil, failed: (@Sendable (any Error) async -> (any Error)?)? = nil
        ) {
            self.received = received
            self.handingOn = handingOn
            self.verified = verified
            self.failed = failed
        }
    }

    let base: Base
    /// `nil`: nothing to check the hash against (an object that is not a blob).
    let digest: Digest?
    let size: Int64?
    let hooks: Hooks
    /// When set, the bytes are hashed on a task of their own (``SideHasher``, at most this
    /// many bytes behind) instead of in `next()`: for a reader that runs on an event loop.
    let hashBesideLag: Int?

    public init(_ base: Base, digest: Digest?, size: Int64? = nil, hooks: Hooks = Hooks()) {
        self.init(base, digest: digest, size: size, hooks: hooks, hashBesideLag: nil)
    }

    init(_ base: Base, digest: Digest?, size: Int64? = nil, hooks: Hooks = Hooks(), hashBesideLag: Int?) {
        self.base = base
        self.digest = digest
        self.size = size
        self.hooks = hooks
        self.hashBesideLag = hashBesideLag
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let digest: Digest?
        let size: Int64?
        let hooks: Hooks
        var hashing: Hashing
        var received: Int64 = 0
        var held: ByteBuffer?
        var finished = false

        public mutating func next() async throws -> ByteBuffer? {
            guard !finished else { return nil }
            do {
                while true {
                    guard let buffer = try await base.next() else {
                        finished = true
                        try await check()
                        try await hooks.verified?()
                        return try await handOn(held)
                    }
                    guard buffer.readableBytes > 0 else { continue }
                    received += Int64(buffer.readableBytes)
                    if let size, received > size {
                        throw DigestVerificationError.sizeMismatch(digest: digest, expected: size, actual: received)
                    }
                    await hooks.received?(buffer)
                    await hashing.add(buffer)
                    // Each buffer takes the hold-back slot and releases the one before it.
                    let previous = held
                    held = buffer
                    if let previous { return try await handOn(previous) }
                }
            } catch {
                finished = true
                hashing.cancel()
                if let replacement = await hooks.failed?(error) { throw replacement }
                throw error
            }
        }

        private func check() async throws {
            if let size, received != size {
                throw DigestVerificationError.sizeMismatch(digest: digest, expected: size, actual: received)
            }
            guard let digest, let actual = await hashing.finish() else { return }
            guard actual == digest else { throw DigestVerificationError.digestMismatch(expected: digest, actual: actual) }
        }

        private func handOn(_ buffer: ByteBuffer?) async throws -> ByteBuffer? {
            guard let buffer else { return nil }
            try await hooks.handingOn?(buffer)
            return buffer
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            base: base.makeAsyncIterator(), digest: digest, size: size, hooks: hooks,
            hashing: Hashing(digest: digest, besideLag: hashBesideLag))
    }

    /// Where the bytes are hashed: nowhere (no digest to check), in `next()`, or on a task
    /// of their own.
    enum Hashing: Sendable {
        case none
        case inline(ContentHasher)
        case beside(SideHasher)

        init(digest: Digest?, besideLag: Int?) {
            switch (digest, besideLag) {
            case (nil, _): self = .none
            case (let digest?, nil): self = .inline(ContentHasher(digest.algorithm))
            case (let digest?, let lag?): self = .beside(SideHasher(digest.algorithm, maxLag: lag))
            }
        }

        /// Hashes one buffer, or queues it for the side task (waiting while it lags too far).
        mutating func add(_ buffer: ByteBuffer) async {
            switch self {
            case .none: break
            case .inline(var hasher):
                hasher.update(buffer)
                self = .inline(hasher)
            case .beside(let sideHasher): await sideHasher.add([buffer])
            }
        }

        /// The digest of everything added; `nil` when nothing is hashed.
        func finish() async -> Digest? {
            switch self {
            case .none: nil
            case .inline(let hasher): hasher.finalize()
            case .beside(let sideHasher): await sideHasher.finish()
            }
        }

        /// Stops a side task's hashing (the bytes will not be checked).
        func cancel() {
            if case .beside(let sideHasher) = self { sideHasher.cancel() }
        }
    }
}
