//! The [`ReasonCatalog`] port: the flows of [`disputes_rows::flows::reasons`] with PostgreSQL's
//! SQL, and the seeding of a tenant's table.

use async_trait::async_trait;
use disputes_domain::{Reason, ReasonCode, TenantId};
use disputes_ports::{ReasonCatalog, StoreError};
use disputes_rows::flows::reasons as flow;

use crate::error::store_error;
use crate::PgStore;

#[async_trait]
impl ReasonCatalog for PgStore {
    async fn reasons(&self, tenant: &TenantId) -> Result<Vec<Reason>, StoreError> {
        let sql = "SELECT domain_id, reason_id, description FROM reason_codes \
             WHERE tenant = $1 ORDER BY domain_id, reason_id";
        flow::reasons(self, sql, tenant).await
    }

    async fn find_reason(
        &self,
        tenant: &TenantId,
        code: ReasonCode,
    ) -> Result<Option<Reason>, StoreError> {
        let sql = "SELECT domain_id, reason_id, description FROM reason_codes \
             WHERE tenant = $1 AND domain_id = $2 AND reason_id = $3";
        flow::find_reason(self, sql, tenant, code).await
    }

    async fn seed_reasons(
        &self,
        tenant: &TenantId,
        defaults: &[Reason],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        // The marker's primary key decides: a concurrent seeder waits on it until this
        // transaction ends, then inserts nothing. An unknown tenant breaks the foreign key,
        // which store_error reports as NotFound.
        let marked = sqlx::query(
            "INSERT INTO seeded_reason_tables (tenant) VALUES ($1) ON CONFLICT DO NOTHING",
        )
        .bind(tenant.as_str())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?
        .rows_affected();
        if marked == 0 {
            tx.rollback().await.map_err(store_error)?;
            return Ok(false);
        }
        let (domain_ids, reason_ids): (Vec<i32>, Vec<i32>) = defaults
            .iter()
            .map(|r| (r.code().domain_id(), r.code().reason_id()))
            .unzip();
        let descriptions: Vec<&str> = defaults.iter().map(Reason::description).collect();
        // One statement for any number of reasons; what the table holds keeps its wording.
        sqlx::query(
            "INSERT INTO reason_codes (tenant, domain_id, reason_id, description) \
             SELECT $1, * FROM UNNEST($2::INTEGER[], $3::INTEGER[], $4::TEXT[]) \
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(domain_ids)
        .bind(reason_ids)
        .bind(descriptions)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(true)
    }

    async fn add_reason(&self, tenant: &TenantId, reason: &Reason) -> Result<(), StoreError> {
        let sql = "INSERT INTO reason_codes (tenant, domain_id, reason_id, description) \
             VALUES ($1, $2, $3, $4)";
        flow::add_reason(self, sql, tenant, reason).await
    }
}
