extension PostgresSchema {
    /// The payload that says the tags or manifests of one repository changed: this prefix and
    /// the repository's name.
    static let manifestsPayloadPrefix = "manifests:"
    /// The payload that says the tags or manifests of any repository may have changed.
    static let anyManifestsPayload = "manifests"

    /// Every statement that changes a repository's tags or manifests notifies `kura_catalog`
    /// with `manifests:<repository>` (see ``CatalogFeedEvent/manifestsChanged(_:)``), from
    /// statement triggers, in the writing transaction: the notification leaves at commit
    /// (none on a rollback), whoever wrote — a node, GC or retention on any node,
    /// `kura catalog migrate`, SQL by hand.
    ///
    /// - One notification per repository a statement touched, named through the transition
    ///   table (PostgreSQL folds identical notifications of one transaction into one, so a
    ///   push's manifest and tag statements make one). A statement touching more than 100
    ///   repositories, or a table emptied, says `manifests` (every repository).
    /// - A repository deleted is named by the trigger on `repositories`: the cascaded deletes
    ///   of its tags and manifests no longer find its name.
    /// - Payloads stay far below PostgreSQL's 8000-byte limit (names are at most 255 bytes;
    ///   one over 1000 bytes, written by hand, says `manifests`).
    /// - PostgreSQL refuses transition tables on a trigger with several events, hence one
    ///   trigger per event.
    static let manifestNotifications = """
        CREATE FUNCTION kura_notify_manifests(names TEXT[]) RETURNS void AS $$
        DECLARE
            repository TEXT;
        BEGIN
            IF cardinality(names) > 100 THEN
                PERFORM pg_notify('kura_catalog', 'manifests');
                RETURN;
            END IF;
            FOREACH repository IN ARRAY names LOOP
                IF octet_length(repository) <= 1000 THEN
                    PERFORM pg_notify('kura_catalog', 'manifests:' || repository);
                ELSE
                    PERFORM pg_notify('kura_catalog', 'manifests');
                END IF;
            END LOOP;
        END;
        $$ LANGUAGE plpgsql;

        CREATE FUNCTION kura_announce_manifests() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                PERFORM pg_notify('kura_catalog', 'manifests');
            ELSE
                PERFORM kura_notify_manifests(ARRAY(
                    SELECT r.name FROM repositories r WHERE r.id IN (SELECT repository_id FROM changed)));
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;

        CREATE FUNCTION kura_announce_repositories() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                PERFORM pg_notify('kura_catalog', 'manifests');
            ELSE
                PERFORM kura_notify_manifests(ARRAY(SELECT DISTINCT name FROM changed));
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;

        CREATE TRIGGER tags_announce_insert AFTER INSERT ON tags REFERENCING NEW TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_manifests();
        CREATE TRIGGER tags_announce_update AFTER UPDATE ON tags REFERENCING NEW TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_manifests();
        CREATE TRIGGER tags_announce_delete AFTER DELETE ON tags REFERENCING OLD TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_manifests();
        CREATE TRIGGER tags_announce_truncate AFTER TRUNCATE ON tags
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_manifests();

        CREATE TRIGGER manifests_announce_insert AFTER INSERT ON manifests REFERENCING NEW TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_manifests();
        CREATE TRIGGER manifests_announce_update AFTER UPDATE ON manifests REFERENCING NEW TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_manifests();
        CREATE TRIGGER manifests_announce_delete AFTER DELETE ON manifests REFERENCING OLD TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_manifests();
        CREATE TRIGGER manifests_announce_truncate AFTER TRUNCATE ON manifests
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_manifests();

        CREATE TRIGGER repositories_announce_update AFTER UPDATE ON repositories REFERENCING OLD TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_repositories();
        CREATE TRIGGER repositories_announce_delete AFTER DELETE ON repositories REFERENCING OLD TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_repositories();
        CREATE TRIGGER repositories_announce_truncate AFTER TRUNCATE ON repositories
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_repositories();
        """
}
