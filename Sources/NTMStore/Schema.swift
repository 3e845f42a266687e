/// The store's schema, as versioned migrations. Each one is plain SQL that SQLite and
/// PostgreSQL both accept (and at most a few SQLite-only statements of layout,
/// ``Migration/sqliteOnly``): text for civil dates (`YYYY-MM-DD`, so they sort) and for instants
/// (ISO 8601 in UTC), BIGINT for money in VND, INTEGER 0/1 for flags (so that an operator's SQL
/// rule reads the same on both backends).
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]
    /// Run after `statements`, on SQLite only: how SQLite lays a table out, which PostgreSQL
    /// has no words for (it keeps every table's rows apart from its key's index).
    public let sqliteOnly: [String]

    init(version: Int, name: String, statements: [String], sqliteOnly: [String] = []) {
        self.version = version
        self.name = name
        self.statements = statements
        self.sqliteOnly = sqliteOnly
    }
}

public enum Schema {
    /// The newest schema this build understands. The daemon refuses a store that is newer.
    public static var currentVersion: Int { migrations.last!.version }

    public static let migrations: [Migration] = [
        Migration(version: 1, name: "programme store", statements: [
            """
            CREATE TABLE units (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                level TEXT NOT NULL,
                parent_id TEXT REFERENCES units(id),
                region TEXT CHECK (region IN ('plains', 'midland', 'mountain')),
                valid_from TEXT,
                valid_to TEXT,
                successor_id TEXT REFERENCES units(id)
            )
            """,
            "CREATE INDEX units_parent ON units(parent_id)",
            """
            CREATE TABLE criteria_sets (
                id TEXT PRIMARY KEY,
                name_vi TEXT NOT NULL,
                name_en TEXT NOT NULL,
                unit_level TEXT NOT NULL,
                tier TEXT NOT NULL,
                valid_from TEXT NOT NULL,
                valid_to TEXT
            )
            """,
            """
            CREATE TABLE criteria (
                set_id TEXT NOT NULL REFERENCES criteria_sets(id),
                code TEXT NOT NULL,
                parent_code TEXT,
                name_vi TEXT NOT NULL,
                name_en TEXT NOT NULL,
                measure TEXT NOT NULL CHECK (measure IN ('boolean', 'threshold')),
                threshold DOUBLE PRECISION,
                unit TEXT,
                direction TEXT CHECK (direction IN ('at_least', 'at_most')),
                region_thresholds TEXT,
                PRIMARY KEY (set_id, code)
            )
            """,
            "CREATE TABLE assessments (\n\(Self.assessments)\n)",
            """
            CREATE TABLE recognitions (
                unit_id TEXT NOT NULL REFERENCES units(id),
                tier TEXT NOT NULL,
                recognized_on TEXT NOT NULL,
                decision TEXT,
                set_id TEXT REFERENCES criteria_sets(id),
                revoked_on TEXT,
                revocation_decision TEXT,
                PRIMARY KEY (unit_id, tier, recognized_on)
            )
            """,
            """
            CREATE TABLE roadmap (
                unit_id TEXT NOT NULL REFERENCES units(id),
                tier TEXT NOT NULL,
                target_year INTEGER NOT NULL,
                note TEXT,
                PRIMARY KEY (unit_id, tier)
            )
            """,
            """
            CREATE TABLE dossier_submissions (
                unit_id TEXT NOT NULL REFERENCES units(id),
                tier TEXT NOT NULL,
                year INTEGER NOT NULL,
                stage TEXT NOT NULL CHECK (stage IN ('commune_to_district', 'district_to_province')),
                submitted_on TEXT NOT NULL,
                PRIMARY KEY (unit_id, tier, year, stage)
            )
            """,
            """
            CREATE TABLE obligations (
                id TEXT PRIMARY KEY,
                title_vi TEXT NOT NULL,
                title_en TEXT NOT NULL,
                legal_basis TEXT,
                responsible_unit_id TEXT,
                responsible_body TEXT,
                submits_to TEXT,
                schedule TEXT NOT NULL,
                semantics TEXT NOT NULL CHECK (semantics IN ('before', 'by')),
                starts_on TEXT,
                ends_on TEXT,
                depends_on TEXT,
                reminder_days TEXT,
                status TEXT NOT NULL DEFAULT 'open'
            )
            """,
            """
            CREATE TABLE obligation_completions (
                obligation_id TEXT NOT NULL REFERENCES obligations(id),
                occurrence TEXT NOT NULL,
                completed_at TEXT NOT NULL,
                PRIMARY KEY (obligation_id, occurrence)
            )
            """,
            """
            CREATE TABLE projects (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                commune_id TEXT NOT NULL REFERENCES units(id),
                investor TEXT,
                allocated_on TEXT,
                total_vnd BIGINT NOT NULL,
                central_vnd BIGINT NOT NULL DEFAULT 0,
                provincial_vnd BIGINT NOT NULL DEFAULT 0,
                district_vnd BIGINT NOT NULL DEFAULT 0,
                commune_vnd BIGINT NOT NULL DEFAULT 0,
                residents_vnd BIGINT NOT NULL DEFAULT 0,
                handover_on TEXT,
                settlement_approved_on TEXT
            )
            """,
            "CREATE TABLE project_disbursements (\n\(Self.projectDisbursements)\n)",
            "CREATE TABLE project_debts (\n\(Self.projectDebts)\n)",
            """
            CREATE TABLE repayment_plans (
                project_id TEXT PRIMARY KEY REFERENCES projects(id),
                amount_vnd BIGINT NOT NULL,
                planned_by TEXT,
                approved_on TEXT
            )
            """,
            """
            CREATE TABLE capital_plans (
                id TEXT PRIMARY KEY,
                unit_id TEXT NOT NULL REFERENCES units(id),
                project_id TEXT REFERENCES projects(id),
                year INTEGER NOT NULL,
                source TEXT NOT NULL,
                assigned_vnd BIGINT NOT NULL,
                carried_over_from INTEGER,
                due_on TEXT
            )
            """,
            """
            CREATE TABLE capital_disbursements (
                plan_id TEXT NOT NULL REFERENCES capital_plans(id),
                on_date TEXT NOT NULL,
                cumulative_vnd BIGINT NOT NULL,
                PRIMARY KEY (plan_id, on_date)
            )
            """,
            """
            CREATE TABLE reallocation_reports (
                unit_id TEXT NOT NULL REFERENCES units(id),
                year INTEGER NOT NULL,
                filed_on TEXT NOT NULL,
                PRIMARY KEY (unit_id, year)
            )
            """,
            """
            CREATE TABLE surveys (
                id TEXT PRIMARY KEY,
                unit_id TEXT NOT NULL REFERENCES units(id),
                surveyed_on TEXT NOT NULL,
                kind TEXT NOT NULL,
                respondents INTEGER NOT NULL,
                satisfied INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE province_targets (
                id TEXT PRIMARY KEY,
                indicator TEXT NOT NULL,
                title_vi TEXT NOT NULL,
                title_en TEXT NOT NULL,
                target DOUBLE PRECISION NOT NULL,
                unit TEXT NOT NULL,
                by_date TEXT NOT NULL,
                baseline DOUBLE PRECISION,
                baseline_on TEXT,
                source TEXT
            )
            """,
            """
            CREATE TABLE import_log (
                kind TEXT NOT NULL,
                file TEXT NOT NULL,
                imported_at TEXT NOT NULL,
                inserted INTEGER NOT NULL,
                updated INTEGER NOT NULL,
                unchanged INTEGER NOT NULL
            )
            """,
        ]),
        // Units change over time. `units.parent_id` stays the parent a unit had from its start,
        // and `units.successor_id` a merger into that unit the day after `valid_to`, so stores and
        // files from version 1 keep their meaning; `unit_parents` adds dated parent changes (the
        // 2025 reform moved communes under the province) and `unit_successions` splits, chains
        // and renamings. Obligations may be templates over a class of units (`applies_to`), each
        // unit completing on its own (`unit_id`, '' for an obligation of one unit or body), and a
        // province target may count the territory of one unit.
        Migration(version: 2, name: "units over time, duty templates, targets per unit", statements: [
            """
            CREATE TABLE unit_parents (
                unit_id TEXT NOT NULL REFERENCES units(id),
                parent_id TEXT NOT NULL REFERENCES units(id),
                valid_from TEXT NOT NULL,
                valid_to TEXT,
                PRIMARY KEY (unit_id, valid_from)
            )
            """,
            "CREATE INDEX unit_parents_parent ON unit_parents(parent_id)",
            """
            CREATE TABLE unit_successions (
                predecessor_id TEXT NOT NULL REFERENCES units(id),
                successor_id TEXT NOT NULL REFERENCES units(id),
                effective_on TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('merge', 'split', 'rename')),
                share DOUBLE PRECISION,
                PRIMARY KEY (predecessor_id, successor_id)
            )
            """,
            "ALTER TABLE obligations ADD COLUMN applies_to TEXT",
            "ALTER TABLE province_targets ADD COLUMN unit_id TEXT REFERENCES units(id)",
            """
            CREATE TABLE obligation_completions_v2 (
                obligation_id TEXT NOT NULL REFERENCES obligations(id),
                unit_id TEXT NOT NULL DEFAULT '',
                occurrence TEXT NOT NULL,
                completed_at TEXT NOT NULL,
                PRIMARY KEY (obligation_id, unit_id, occurrence)
            )
            """,
            """
            INSERT INTO obligation_completions_v2 (obligation_id, unit_id, occurrence, completed_at)
            SELECT obligation_id, '', occurrence, completed_at FROM obligation_completions
            """,
            "DROP TABLE obligation_completions",
            "ALTER TABLE obligation_completions_v2 RENAME TO obligation_completions",
        ]),
        // A duty read from a plan keeps the evidence it rests on (issue 22): the section of the
        // document (`legal_basis`) and the quoted words, shown with its alerts. Quarterly schedules
        // need no change: `schedule` is text.
        Migration(version: 3, name: "obligations keep their section and quote", statements: [
            "ALTER TABLE obligations ADD COLUMN section TEXT",
            "ALTER TABLE obligations ADD COLUMN quote TEXT",
        ]),
        // The three tables that grow with the country (1.9 M assessments, 400,000 disbursements
        // and 134,000 debt rows at national scale, issue 21) are kept in the order of their key,
        // without a rowid: each row was stored twice, in the table and in its key's index, and
        // read in key order through that index one table lookup at a time. A national store
        // takes 157 MiB instead of 268, its assessments read in key order in a third to a half
        // of the time, and an import writes one tree per row instead of two. Migrating an
        // existing store copies these tables before it drops the old ones: its file grows by
        // about their new size (116 MiB at national scale), kept free inside the file for what
        // the store writes next, until `VACUUM` gives it back (README, "Upgrading the store").
        // Nothing refers to these tables, and nothing reads their rowid.
        Migration(version: 4, name: "national tables kept in key order (SQLite)", statements: [],
                  sqliteOnly: Self.withoutRowid("assessments", Self.assessments)
                      + Self.withoutRowid("project_disbursements", Self.projectDisbursements)
                      + Self.withoutRowid("project_debts", Self.projectDebts)),
    ]

    /// Rebuilds `table` from the `columns` it was created with (version 1), without a rowid,
    /// keeping its rows: the same columns in the same order, so `SELECT *` copies them.
    private static func withoutRowid(_ table: String, _ columns: String) -> [String] {
        [
            "CREATE TABLE \(table)_keyed (\n\(columns)\n) WITHOUT ROWID",
            "INSERT INTO \(table)_keyed SELECT * FROM \(table)",
            "DROP TABLE \(table)",
            "ALTER TABLE \(table)_keyed RENAME TO \(table)",
        ]
    }

    // The columns of the three tables version 4 rebuilds, as version 1 created them: one text
    // for both, so that the rebuilt tables cannot drift from the created ones.
    private static let assessments = """
            unit_id TEXT NOT NULL REFERENCES units(id),
            set_id TEXT NOT NULL REFERENCES criteria_sets(id),
            criterion_code TEXT NOT NULL,
            assessed_on TEXT NOT NULL,
            met INTEGER NOT NULL CHECK (met IN (0, 1)),
            value DOUBLE PRECISION,
            source TEXT,
            PRIMARY KEY (unit_id, set_id, criterion_code, assessed_on)
        """
    private static let projectDisbursements = """
            project_id TEXT NOT NULL REFERENCES projects(id),
            budget_level TEXT NOT NULL,
            on_date TEXT NOT NULL,
            cumulative_vnd BIGINT NOT NULL,
            PRIMARY KEY (project_id, budget_level, on_date)
        """
    private static let projectDebts = """
            project_id TEXT NOT NULL REFERENCES projects(id),
            budget_level TEXT NOT NULL,
            period TEXT NOT NULL,
            as_of TEXT NOT NULL,
            outstanding_vnd BIGINT NOT NULL,
            PRIMARY KEY (project_id, budget_level, period, as_of)
        """
}
