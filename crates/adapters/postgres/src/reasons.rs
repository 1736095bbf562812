use async_trait::async_trait;
use disputes_domain::{Reason, ReasonCode, TenantId};
use disputes_ports::{ReasonCatalog, StoreError};
use sqlx::postgres::PgRow;
use sqlx::Row;

use crate::error::{corrupt, store_error};
use crate::PgStore;

#[async_trait]
impl ReasonCatalog for PgStore {
    async fn reasons(&self, tenant: &TenantId) -> Result<Vec<Reason>, StoreError> {
        sqlx::query(
            "SELECT domain_id, reason_id, description FROM reason_codes \
             WHERE tenant = $1 ORDER BY domain_id, reason_id",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?
        .iter()
        .map(reason_from_row)
        .collect()
    }

    async fn find_reason(
        &self,
        tenant: &TenantId,
        code: ReasonCode,
    ) -> Result<Option<Reason>, StoreError> {
        sqlx::query(
            "SELECT domain_id, reason_id, description FROM reason_codes \
             WHERE tenant = $1 AND domain_id = $2 AND reason_id = $3",
        )
        .bind(tenant.as_str())
        .bind(code.domain_id())
        .bind(code.reason_id())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?
        .as_ref()
        .map(reason_from_row)
        .transpose()
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
        // A taken code breaks the primary key (AlreadyExists), an unknown tenant the foreign key
        // (NotFound).
        sqlx::query(
            "INSERT INTO reason_codes (tenant, domain_id, reason_id, description) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant.as_str())
        .bind(reason.code().domain_id())
        .bind(reason.code().reason_id())
        .bind(reason.description())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

fn reason_from_row(row: &PgRow) -> Result<Reason, StoreError> {
    let domain_id: i32 = row.try_get("domain_id").map_err(store_error)?;
    let reason_id: i32 = row.try_get("reason_id").map_err(store_error)?;
    let description: String = row.try_get("description").map_err(store_error)?;
    let code =
        ReasonCode::new(domain_id.into(), reason_id.into()).map_err(|e| corrupt("reason_id", e))?;
    Reason::new(code, description).map_err(|e| corrupt("description", e))
}
