//! Group commit: the creates and updates queued for this process's write turn share one
//! transaction.
//!
//! A write turn is short (`crate::batch`), but each one still began and committed a
//! transaction of its own: two more trips to the connection's worker thread and the WAL frames
//! of every page it touched, written again by the next writer a moment later. Instead, a
//! [`Member`] joins the transaction the writers before it left open, inside a savepoint of its
//! own (rolled back alone when its write fails), and leaves it open. The batch's first member
//! starts its closer, a task that queues for the turn behind the writers waiting at that moment,
//! who join the batch in their turns, and then commits it and tells every member. A writer that
//! is alone commits one turn later; under load one `COMMIT` covers all that queued meanwhile.
//!
//! Savepoint names are `w{n}`, `n` the number of members the batch had when the savepoint was
//! made. Names repeat after a failed member, and `ROLLBACK TO` picks the newest of a name; either
//! way every write made after a savepoint named `w{n}` belongs to members that did not make it
//! into the batch, so rolling back to it never undoes a member's write.
//!
//! What holds:
//! - a write is reported done only after the `COMMIT` that includes it succeeded; when that
//!   `COMMIT` fails, every member of the batch is told so, and nothing of it is stored;
//! - a member whose future is dropped midway leaves its savepoint marked pending; the next
//!   holder of the turn rolls back to it before anything else (or, should that fail, drops the
//!   whole batch, whose members then learn it failed), so half a write is never committed;
//! - the `COMMIT` runs in a task of its own (the closer, or `Turn::settle`), so that dropping
//!   members' futures cannot leave the batch open, holding the write lock, or its members
//!   without an answer;
//! - other writers of the process (`SqliteStore::write_turn`) first commit a batch they find
//!   open, so they see and order after it exactly as before; other processes meet the busy
//!   timeout as before, for as long as a batch lasts.

use std::sync::Arc;

use disputes_ports::StoreError;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use tokio::sync::{oneshot, Mutex, OwnedMutexGuard};

use crate::error::store_error;
use crate::SqliteStore;

/// How many writes one transaction takes at most, so that other writers of the process and
/// other processes wait a bounded time.
const MAX_MEMBERS: usize = 32;

/// The writers' turn, and what a turn may find: a transaction left open for the next writers.
#[derive(Debug, Default)]
pub(crate) struct Turn {
    open: Option<Open>,
    /// The number the next batch gets.
    batches: u64,
}

/// This process's turn to write: held until the write it came with has ended.
pub(crate) type WriteTurn = OwnedMutexGuard<Turn>;

/// What a member learns of the batch's `COMMIT`.
type Outcome = Result<(), String>;

#[derive(Debug)]
struct Open {
    /// Which batch this is, for its closer (see `Member::finish`).
    id: u64,
    tx: Transaction<'static, Sqlite>,
    /// Who to tell when the batch commits or fails, by member number.
    members: Vec<oneshot::Sender<Outcome>>,
    /// The savepoint of a member that began and did not finish: its future was dropped.
    pending: Option<String>,
}

impl Turn {
    /// Commits the batch open in this turn, if any, and tells its members. Runs in a task of its
    /// own, which holds the turn until it is done, so that it completes even if the caller is
    /// dropped meanwhile.
    pub(crate) async fn settle(writers: &Arc<Mutex<Turn>>, mut turn: WriteTurn) -> WriteTurn {
        if turn.open.is_none() {
            return turn;
        }
        let settled = tokio::spawn(async move {
            turn.recover().await;
            if let Some(open) = turn.open.take() {
                open.commit().await;
            }
            turn
        });
        match settled.await {
            Ok(turn) => turn,
            // Only when the runtime is shutting down (nothing in the task panics): the turn
            // was released with the task.
            Err(e) => {
                tracing::warn!(error = %e, "sqlite: committing a batch of writes did not finish");
                writers.clone().lock_owned().await
            }
        }
    }

    /// Rolls back a member that did not finish. Drops the whole batch (telling its members)
    /// if that fails.
    async fn recover(&mut self) {
        let Some(open) = &mut self.open else {
            return;
        };
        let Some(savepoint) = open.pending.clone() else {
            return;
        };
        // Pending until it worked: if this future is dropped too, the next holder rolls back
        // again, which is harmless (the savepoint stays after a rollback to it).
        let rolled_back = sqlx::query(&format!("ROLLBACK TO {savepoint}"))
            .execute(&mut *open.tx)
            .await;
        if let Err(e) = rolled_back {
            // Most likely the savepoint was never made (dropped before its first statement
            // reached SQLite); either way nothing tells what the batch holds.
            tracing::warn!(error = %e, "sqlite: dropping a batch of writes after an abandoned one");
            if let Some(open) = self.open.take() {
                open.fail(&format!("the write was rolled back: {e}"));
            }
        } else {
            open.pending = None;
        }
    }
}

impl Open {
    async fn commit(self) {
        let Open { tx, members, .. } = self;
        let outcome = tx.commit().await.map_err(|e| store_error(e).to_string());
        for member in members {
            // A member that is gone no longer needs to know.
            let _ = member.send(outcome.clone());
        }
    }

    fn fail(self, why: &str) {
        // Dropping the transaction rolls it back.
        for member in self.members {
            let _ = member.send(Err(why.to_owned()));
        }
    }
}

/// One write inside the shared transaction; see the module's documentation.
pub(crate) struct Member {
    /// `None` once the member has finished.
    turn: Option<WriteTurn>,
    savepoint: String,
    writers: Arc<Mutex<Turn>>,
}

impl SqliteStore {
    /// Joins (or begins) the transaction of the writers queued for this turn, in a savepoint of
    /// its own. The member's first statement must begin with [`Member::savepoint_sql`].
    pub(crate) async fn join_write(&self) -> Result<Member, StoreError> {
        let mut turn = self.writers.clone().lock_owned().await;
        turn.recover().await;
        let full = turn
            .open
            .as_ref()
            .is_some_and(|open| open.members.len() >= MAX_MEMBERS);
        if full {
            turn = Turn::settle(&self.writers, turn).await;
        }
        if turn.open.is_none() {
            let tx = self.begin_immediate().await.map_err(store_error)?;
            turn.batches += 1;
            turn.open = Some(Open {
                id: turn.batches,
                tx,
                members: Vec::new(),
                pending: None,
            });
        }
        let open = turn.open.as_mut().expect("a batch is open");
        let savepoint = format!("w{}", open.members.len());
        open.pending = Some(savepoint.clone());
        Ok(Member {
            turn: Some(turn),
            savepoint,
            writers: self.writers.clone(),
        })
    }
}

impl Member {
    /// `SAVEPOINT name;`, to put in front of the member's first statement (one trip for both).
    pub(crate) fn savepoint_sql(&self) -> String {
        format!("SAVEPOINT {};\n", self.savepoint)
    }

    /// The shared transaction's connection.
    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.open().tx
    }

    fn open(&mut self) -> &mut Open {
        self.turn
            .as_mut()
            .and_then(|turn| turn.open.as_mut())
            .expect("a member's batch is open until it finishes")
    }

    /// Ends the member's write with `result`: rolls it back when it failed; when it succeeded,
    /// waits for the `COMMIT` that includes it, and reports that `COMMIT`'s outcome.
    pub(crate) async fn finish<T>(
        mut self,
        result: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let savepoint = self.savepoint.clone();
        let open = self.open();
        let value = match result {
            Ok(value) => value,
            Err(e) => {
                let rolled_back = sqlx::query(&format!("ROLLBACK TO {savepoint}"))
                    .execute(&mut *open.tx)
                    .await;
                match rolled_back {
                    Ok(_) => open.pending = None,
                    // Left pending: the next holder of the turn rolls back or drops the batch.
                    Err(rollback) => {
                        tracing::warn!(error = %rollback, "sqlite: rolling back a failed write");
                    }
                }
                // Dropping the member ends a batch that nobody else is in (see Drop).
                return Err(e);
            }
        };
        open.pending = None;
        let (tell, committed) = oneshot::channel();
        let first = open.members.is_empty();
        open.members.push(tell);
        if first {
            // The batch's closer: it queues for the turn behind the writers queued now, who
            // join the batch in their turns, and then commits it. A task of its own, so that it
            // comes back even when every member's future has been dropped meanwhile.
            let batch = open.id;
            let writers = self.writers.clone();
            tokio::spawn(async move {
                let mut turn = writers.lock_owned().await;
                if turn.open.as_ref().is_some_and(|open| open.id == batch) {
                    turn.recover().await;
                    if let Some(open) = turn.open.take() {
                        open.commit().await;
                    }
                }
            });
        }
        // Let the writers queued meanwhile join.
        drop(self.turn.take());
        match committed.await {
            Ok(Ok(())) => Ok(value),
            Ok(Err(why)) => Err(StoreError::Other(format!("commit failed: {why}"))),
            // The batch was dropped without a word (the closer's runtime is shutting down): it
            // was rolled back.
            Err(_) => Err(StoreError::Other("the write was rolled back".to_owned())),
        }
    }
}

impl Drop for Member {
    /// A member that did not make it into the batch (failed, or its future was dropped) and
    /// is alone in it ends the transaction: nobody else would come back to end it, and it holds
    /// SQLite's write lock and a pooled connection. Dropping the transaction rolls it back.
    fn drop(&mut self) {
        if let Some(turn) = &mut self.turn {
            if turn
                .open
                .as_ref()
                .is_some_and(|open| open.members.is_empty())
            {
                turn.open = None;
            }
        }
    }
}
