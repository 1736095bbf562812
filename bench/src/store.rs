//! Direct SQL on either store: bulk seeding, and the statements of opening a dispute for the
//! database baselines.
//!
//! Everything starts from one *template* dispute that the real server opened over HTTP: the
//! seeder copies its rows (changing only the id and the campaign, so no two copies conflict), and
//! the baselines replay its inserts. Column lists are read from the live schema, so migrations
//! that add columns need no change here, and every seeded row is one the server wrote itself.

use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::{postgres::PgPoolOptions, sqlite::SqliteConnectOptions, PgPool, SqlitePool};
use std::str::FromStr;

/// The child tables that hang off a dispute by `dispute_id`.
const CHILDREN: [&str; 3] = ["dispute_screens", "timeline_entries", "dispute_messages"];

/// Either store, reached directly.
#[derive(Debug, Clone)]
pub enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres") {
            let pool = PgPoolOptions::new()
                .max_connections(64)
                .connect(url)
                .await
                .with_context(|| format!("connecting to {url}"))?;
            Ok(Db::Postgres(pool))
        } else {
            // The server's own settings (crates/adapters/sqlite/src/lib.rs), so the baseline pays
            // the same fsync and locking costs.
            let options = SqliteConnectOptions::from_str(url)?
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .connect_with(options)
                .await
                .with_context(|| format!("opening {url}"))?;
            Ok(Db::Sqlite(pool))
        }
    }

    fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    pub async fn execute(&self, sql: &str) -> anyhow::Result<u64> {
        let rows = match self {
            Db::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await?.rows_affected(),
            Db::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await?.rows_affected(),
        };
        Ok(rows)
    }

    /// The first column of every row, as text.
    pub async fn strings(&self, sql: &str) -> anyhow::Result<Vec<String>> {
        Ok(match self {
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
        })
    }

    pub async fn int(&self, sql: &str) -> anyhow::Result<i64> {
        Ok(match self {
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        })
    }

    /// The table's columns in schema order.
    async fn columns(&self, table: &str) -> anyhow::Result<Vec<String>> {
        let sql = if self.is_postgres() {
            format!(
                "SELECT column_name::TEXT FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = '{table}' \
                 ORDER BY ordinal_position"
            )
        } else {
            format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
        };
        let columns = self.strings(&sql).await?;
        anyhow::ensure!(!columns.is_empty(), "table {table} not found");
        Ok(columns)
    }

    /// Each row of `table` matching `filter`, every column except `skip` as an SQL literal.
    async fn literal_rows(
        &self,
        table: &str,
        filter: &str,
        skip: &str,
    ) -> anyhow::Result<(Vec<String>, Vec<Vec<String>>)> {
        let columns: Vec<String> = self
            .columns(table)
            .await?
            .into_iter()
            .filter(|c| c != skip)
            .collect();
        let quote = if self.is_postgres() {
            "quote_nullable"
        } else {
            "quote"
        };
        // One text per row, the literals joined by a unit separator no literal contains.
        let select = columns
            .iter()
            .map(|c| format!("{quote}({c})"))
            .collect::<Vec<_>>()
            .join(" || char_sep || ");
        let sep = if self.is_postgres() {
            "chr(31)"
        } else {
            "char(31)"
        };
        let sql = format!(
            "SELECT {} FROM {table} WHERE {filter}",
            select.replace("char_sep", sep)
        );
        let rows = self
            .strings(&sql)
            .await?
            .into_iter()
            .map(|row| row.split('\u{1f}').map(str::to_owned).collect())
            .collect();
        Ok((columns, rows))
    }
}

/// Adds `count` copies of the disputes `templates` (first and last id, each of its own
/// campaign), taken in turn, each copy with its own id and its template's every fact, screens,
/// timeline (seals included) and messages: rows the server reads and verifies like its own. One transaction per store, `INSERT ... SELECT` over a generated series.
pub async fn seed(db: &Db, templates: (i64, i64), count: i64) -> anyhow::Result<()> {
    if count <= 0 {
        return Ok(());
    }
    let started = Instant::now();
    let columns: Vec<String> = db
        .columns("disputes")
        .await?
        .into_iter()
        .filter(|c| c != "id")
        .collect();
    // Every fact verbatim, the campaign too: each entry seals the dispute's state, so a copy
    // that differed in any fact would fail verification. A copy of an open delivery dispute
    // conflicts with nothing at the database's level (the one-open rule of delivery disputes is
    // the engine's), and the seal binds the tenant and the chain, not the id.
    let (first, last) = templates;
    let rounds = (count + last - first) / (last - first + 1);
    let select: Vec<String> = columns.iter().map(|c| format!("d.{c}")).collect();
    let before = db.int("SELECT COALESCE(MAX(id), 0) FROM disputes").await?;
    let series = if db.is_postgres() {
        format!("generate_series(1, {rounds}) AS g (n)")
    } else {
        "g".to_owned()
    };
    let mut sql = String::new();
    if db.is_postgres() {
        sql.push_str("SET LOCAL synchronous_commit = off;\n");
    }
    if !db.is_postgres() {
        sql.push_str(&format!(
            "WITH RECURSIVE g (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {rounds}) "
        ));
    }
    sql.push_str(&format!(
        "INSERT INTO disputes ({}) SELECT {} FROM disputes d, {series} \
         WHERE d.id BETWEEN {first} AND {last} ORDER BY g.n, d.id LIMIT {count};\n",
        columns.join(", "),
        select.join(", ")
    ));
    for child in CHILDREN {
        let child_columns: Vec<String> = db
            .columns(child)
            .await?
            .into_iter()
            .filter(|c| c != "dispute_id")
            .collect();
        let list = child_columns.join(", ");
        let from = child_columns
            .iter()
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        sql.push_str(&format!(
            "INSERT INTO {child} (dispute_id, {list}) SELECT n.id, {from} FROM disputes n \
             JOIN disputes tpl ON tpl.id BETWEEN {first} AND {last} \
             AND tpl.campaign_id = n.campaign_id \
             JOIN {child} t ON t.dispute_id = tpl.id WHERE n.id > {before};\n"
        ));
    }
    if db.is_postgres() {
        db.execute(&format!("BEGIN;\n{sql}COMMIT;\nANALYZE;"))
            .await
            .context("seeding PostgreSQL")?;
    } else {
        db.execute(&format!("BEGIN;\n{sql}COMMIT;\nANALYZE;"))
            .await
            .context("seeding SQLite")?;
    }
    eprintln!(
        "    seeded {count} disputes in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The template's `disputes` row: its columns (all but `skip`) and their values as SQL literals.
struct TemplateRow {
    columns: Vec<String>,
    row: Vec<String>,
}

impl TemplateRow {
    async fn read(db: &Db, template: i64, skip: &str) -> anyhow::Result<TemplateRow> {
        let (columns, rows) = db
            .literal_rows("disputes", &format!("id = {template}"), skip)
            .await?;
        let row = rows
            .into_iter()
            .next()
            .context("the template dispute is missing")?;
        Ok(TemplateRow { columns, row })
    }

    /// The literal of column `name`.
    fn value(&self, name: &str) -> anyhow::Result<String> {
        let at = self
            .columns
            .iter()
            .position(|c| c == name)
            .with_context(|| format!("disputes.{name} missing"))?;
        Ok(self.row[at].clone())
    }
}

/// The SQL that opening the template's dispute runs, with the campaign as a parameter: the
/// conflict check, the dispute row (returning its id) and each child row (for that id).
#[derive(Debug, Clone)]
pub struct OpenStatements {
    pub conflict: String,
    pub insert_dispute: String,
    pub insert_children: Vec<String>,
}

impl OpenStatements {
    /// `campaign` and `id` are how the dialect spells the two parameters.
    pub async fn of(db: &Db, template: i64, campaign: &str, id: &str) -> anyhow::Result<Self> {
        let template_row = TemplateRow::read(db, template, "id").await?;
        let (columns, value) = (&template_row.columns, |name: &str| template_row.value(name));
        let values: Vec<String> = columns
            .iter()
            .zip(&template_row.row)
            .map(|(c, v)| {
                if c == "campaign_id" {
                    campaign.to_owned()
                } else {
                    v.clone()
                }
            })
            .collect();
        let insert_dispute = format!(
            "INSERT INTO disputes ({}) VALUES ({}) RETURNING id",
            columns.join(", "),
            values.join(", ")
        );
        let (_, screens) = db
            .literal_rows(
                "dispute_screens",
                &format!("dispute_id = {template} ORDER BY position"),
                "",
            )
            .await?;
        let screen_ids: Vec<String> = screens.iter().map(|s| s[1].clone()).collect();
        let screen_match = if db.is_postgres() {
            format!("ds.screen_id = ANY(ARRAY[{}])", screen_ids.join(", "))
        } else {
            format!("ds.screen_id IN ({})", screen_ids.join(", "))
        };
        // The store's own duplicate check for a delivery subject (see the adapters' repository).
        let conflict = format!(
            "SELECT d.id FROM disputes d WHERE d.tenant = {tenant} AND d.campaign_id = {campaign} \
             AND d.subject_kind = 'delivery' AND d.status NOT IN ('resolved', 'withdrawn', 'expired') \
             AND d.period_start < {end} AND {start} < d.period_end \
             AND EXISTS (SELECT 1 FROM dispute_screens ds WHERE ds.dispute_id = d.id AND {screen_match}) \
             ORDER BY d.id LIMIT 1",
            tenant = value("tenant")?,
            end = value("period_end")?,
            start = value("period_start")?,
        );
        let mut insert_children = Vec::new();
        for child in CHILDREN {
            let (columns, rows) = db
                .literal_rows(child, &format!("dispute_id = {template}"), "dispute_id")
                .await?;
            if rows.is_empty() {
                continue;
            }
            let tuples: Vec<String> = rows
                .iter()
                .map(|r| format!("({id}, {})", r.join(", ")))
                .collect();
            insert_children.push(format!(
                "INSERT INTO {child} (dispute_id, {}) VALUES {}",
                columns.join(", "),
                tuples.join(", ")
            ));
        }
        Ok(OpenStatements {
            conflict,
            insert_dispute,
            insert_children,
        })
    }

    /// A pgbench script doing the same work in one transaction, with the advisory lock the
    /// PostgreSQL store takes first; each transaction opens a new campaign.
    pub fn pgbench_script(&self) -> String {
        let mut script = String::from(
            "\\set n random(1, 2000000000)\nBEGIN;\n\
             SELECT pg_advisory_xact_lock(hashtextextended('bench:' || :client_id::TEXT || ':' || :n::TEXT, 0));\n",
        );
        script.push_str(&self.conflict);
        script.push_str(";\n");
        script.push_str(&self.insert_dispute);
        script.push_str(" \\gset\n");
        for child in &self.insert_children {
            script.push_str(child);
            script.push_str(";\n");
        }
        script.push_str("COMMIT;\n");
        script
    }
}

/// The statement the stores' `get` runs (`GET_DISPUTE` in crates/adapters/*/src/repository.rs):
/// the dispute's row with its screens, timeline and messages aggregated as JSON in sub-selects,
/// for the template's tenant. Columns come from the live schema, as the seeder's do; `id` is how
/// the dialect spells the one parameter.
pub async fn get_statement(db: &Db, template: i64, id: &str) -> anyhow::Result<String> {
    let template_row = TemplateRow::read(db, template, "").await?;
    let (columns, tenant) = (&template_row.columns, template_row.value("tenant")?);
    let (array, object, as_text) = if db.is_postgres() {
        ("json_agg", "json_build_object", "::TEXT")
    } else {
        ("json_group_array", "json_object", "")
    };
    let mut children = Vec::new();
    for (table, alias) in [("timeline_entries", "t"), ("dispute_messages", "m")] {
        let pairs = db
            .columns(table)
            .await?
            .into_iter()
            .filter(|c| c != "dispute_id")
            .map(|c| format!("'{c}', {alias}.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        children.push(format!(
            "(SELECT {array}({object}({pairs}) ORDER BY {alias}.seq){as_text} FROM {table} {alias} \
             WHERE {alias}.dispute_id = d.id) AS {table}"
        ));
    }
    Ok(format!(
        "SELECT {}, (SELECT {array}(s.screen_id ORDER BY s.position){as_text} FROM dispute_screens s \
         WHERE s.dispute_id = d.id) AS screens, {} FROM disputes d WHERE d.tenant = {tenant} AND d.id = {id}",
        columns
            .iter()
            .map(|c| format!("d.{c}"))
            .collect::<Vec<_>>()
            .join(", "),
        children.join(", "),
    ))
}

/// A pgbench script reading a dispute chosen at random among ids `low..=high` with
/// [`get_statement`], as the get scenario does over HTTP.
pub fn pgbench_get_script(statement: &str, low: i64, high: i64) -> String {
    format!("\\set id random({low}, {high})\n{statement};\n")
}

/// What a database baseline measured.
#[derive(Debug, Clone)]
pub struct BaselineResult {
    pub transactions: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl BaselineResult {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "transactions": self.transactions,
            "per_second": self.per_second,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "failures": 0,
        })
    }
}

/// The SQLite limit of opening: `concurrency` tasks, each opening disputes through sqlx as fast
/// as it can (`BEGIN IMMEDIATE`, conflict check, inserts, commit), for `length`.
pub async fn sqlite_baseline(
    db: &Db,
    template: i64,
    concurrency: usize,
    length: Duration,
) -> anyhow::Result<BaselineResult> {
    let Db::Sqlite(pool) = db.clone() else {
        anyhow::bail!("the SQLite baseline needs an SQLite URL");
    };
    let statements = OpenStatements::of(db, template, "?1", "?1").await?;
    // Every run opens campaigns of its own: the levels run one after the other on one store.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    tight_loop(concurrency, length, move |task, n| {
        let pool = pool.clone();
        let statements = statements.clone();
        async move {
            let campaign = format!("sqlb_{run}_{task}_{n}");
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let existing: Option<i64> = sqlx::query_scalar(&statements.conflict)
                .bind(&campaign)
                .fetch_optional(&mut *tx)
                .await?;
            anyhow::ensure!(existing.is_none(), "unexpected conflict");
            let id: i64 = sqlx::query_scalar(&statements.insert_dispute)
                .bind(&campaign)
                .fetch_one(&mut *tx)
                .await?;
            for child in &statements.insert_children {
                sqlx::query(child).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }
    })
    .await
}

/// The SQLite limit of reading: `concurrency` tasks, each reading disputes chosen at random among
/// ids `low..=high` with [`get_statement`] through sqlx as fast as it can, for `length`.
pub async fn sqlite_read_baseline(
    db: &Db,
    template: i64,
    (low, high): (i64, i64),
    concurrency: usize,
    length: Duration,
) -> anyhow::Result<BaselineResult> {
    let Db::Sqlite(pool) = db.clone() else {
        anyhow::bail!("the SQLite baseline needs an SQLite URL");
    };
    let statement = get_statement(db, template, "?1").await?;
    let span = u64::try_from(high - low + 1).context("an empty id range")?;
    tight_loop(concurrency, length, move |task, n| {
        let pool = pool.clone();
        let statement = statement.clone();
        async move {
            let id = low + i64::try_from(spread(task, n) % span)?;
            let row = sqlx::query(&statement)
                .bind(id)
                .fetch_optional(&pool)
                .await?;
            anyhow::ensure!(row.is_some(), "dispute {id} is missing");
            Ok(())
        }
    })
    .await
}

/// A well-mixed number for the `n`th step of task `task` (splitmix64), so that the tasks read
/// ids spread over the whole range without a random number generator crate.
fn spread(task: usize, n: u64) -> u64 {
    let mut z = (task as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(n.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs `step(task, n)` in `concurrency` tasks, each as fast as it can, for `length`, and
/// measures every step's latency.
async fn tight_loop<F, Fut>(
    concurrency: usize,
    length: Duration,
    step: F,
) -> anyhow::Result<BaselineResult>
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let step = step.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while started.elapsed() < length {
                n += 1;
                let began = Instant::now();
                step(task, n).await?;
                latencies.push(began.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(BaselineResult {
        transactions: latencies.len() as u64,
        per_second: latencies.len() as f64 / elapsed,
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
    })
}
