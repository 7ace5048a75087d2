/// The conditions that make a manifest a garbage-collection candidate, on `manifests m`:
/// one text for every catalog (SQLite and PostgreSQL name their tables and columns alike),
/// used by the candidate queries and by the conditional delete that re-checks them.
enum ManifestCandidateSQL {
    static let untaggedAndNotAChild = """
        NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.manifest_digest = m.digest)
        AND NOT EXISTS (
            SELECT 1 FROM manifest_references f
            WHERE f.child_digest = m.digest AND f.kind = 'manifest' AND f.repository_id = m.repository_id)
        """

    static let notSubjectOfTaggedReferrer = """
        NOT EXISTS (
            SELECT 1 FROM manifests x JOIN tags xt ON xt.repository_id = x.repository_id AND xt.manifest_digest = x.digest
            WHERE x.repository_id = m.repository_id AND x.subject = m.digest)
        """

    static let subjectMissing = """
        m.subject IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM manifests s WHERE s.repository_id = m.repository_id AND s.digest = m.subject)
        """

    static func condition(_ reason: ManifestCandidate.Reason) -> String {
        switch reason {
        case .untagged: "\(untaggedAndNotAChild) AND \(notSubjectOfTaggedReferrer)"
        case .orphanedReferrer: "\(subjectMissing) AND \(untaggedAndNotAChild)"
        }
    }
}
