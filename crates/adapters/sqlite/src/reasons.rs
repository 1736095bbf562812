//! The [`ReasonCatalog`] port: the flows of [`disputes_rows::flows::reasons`] with SQLite's SQL,
//! and the seeding of a tenant's table.

use async_trait::async_trait;
use disputes_domain::{Reason, ReasonCode, TenantId};
use disputes_ports::{ReasonCatalog, StoreError};
use disputes_rows::flows::reasons as flow;
use sqlx::{QueryBuilder, Sqlite};

use crate::error::store_error;
use crate::SqliteStore;

#[async_trait]
impl ReasonCatalog for SqliteStore {
    async fn reasons(&self, tenant: &TenantId) -> Result<Vec<Reason>, StoreError> {
        let sql = "SELECT domain_id, reason_id, description FROM reason_codes \
             WHERE tenant = ? ORDER BY domain_id, reason_id";
        flow::reasons(self, sql, tenant).await
    }

    async fn find_reason(
        &self,
        tenant: &TenantId,
        code: ReasonCode,
    ) -> Result<Option<Reason>, StoreError> {
        let sql = "SELECT domain_id, reason_id, description FROM reason_codes \
             WHERE tenant = ? AND domain_id = ? AND reason_id = ?";
        flow::find_reason(self, sql, tenant, code).await
    }

    async fn seed_reasons(
        &self,
        tenant: &TenantId,
        defaults: &[Reason],
    ) -> Result<bool, StoreError> {
        // The write lock up front: the marker and the reasons go in together or not at all.
        let (_turn, mut tx) = self.begin_write().await.map_err(store_error)?;
        // An unknown tenant breaks the foreign key, which store_error reports as NotFound.
        let marked = sqlx::query(
            "INSERT INTO seeded_reason_tables (tenant) VALUES (?) ON CONFLICT DO NOTHING",
        )
        .bind(tenant.as_str())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?
        .rows_affected();
        if marked == 0 {
            return Ok(false);
        }
        if !defaults.is_empty() {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO reason_codes (tenant, domain_id, reason_id, description) ",
            );
            insert.push_values(defaults, |mut row, reason| {
                row.push_bind(tenant.as_str())
                    .push_bind(reason.code().domain_id())
                    .push_bind(reason.code().reason_id())
                    .push_bind(reason.description());
            });
            // What the table holds already keeps its wording.
            insert.push(" ON CONFLICT DO NOTHING");
            insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(true)
    }

    async fn add_reason(&self, tenant: &TenantId, reason: &Reason) -> Result<(), StoreError> {
        let sql = "INSERT INTO reason_codes (tenant, domain_id, reason_id, description) \
             VALUES (?, ?, ?, ?)";
        flow::add_reason(self, sql, tenant, reason).await
    }
}
