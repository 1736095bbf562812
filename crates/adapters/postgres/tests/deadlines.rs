//! The deadline conformance suite (tenant policies, the deadline queue, the scheduler, racing
//! schedulers) against PostgreSQL, each test in a schema of its own.

use std::sync::Arc;

use disputes_postgres::testing::fresh_schema_url;
use disputes_postgres::PgStore;

/// A small pool: many tests share a server with 100 connections.
const TEST_POOL_SIZE: u32 = 4;

async fn fresh_store() -> Arc<PgStore> {
    let url = fresh_schema_url("deadlines").await;
    Arc::new(
        PgStore::connect_with(
            &url,
            PgStore::pool_options().max_connections(TEST_POOL_SIZE),
        )
        .await
        .unwrap(),
    )
}

disputes_conformance::deadline_conformance_suite!(fresh_store());
