//! The booking writer: ONE task per server process through which every change to seats goes.
//! It takes whatever requests are waiting (up to [`MAX_BATCH`]), runs each as a command of one
//! transaction, commits once, and only then answers them all: one durable commit (one fsync)
//! carries many bookings. Each booking locks its event row before its slow path (`FOR UPDATE`
//! on PostgreSQL; SQLite's `BEGIN IMMEDIATE` holds the write lock), takes seats with
//! conditional updates (`seats_confirmed + n <= capacity`), and the CHECK constraints of the
//! seat counters refuse anything the code might get wrong. Several processes on one PostgreSQL
//! queue on the event row; bookings in a batch lock events in id order, and a batch that still
//! meets a deadlock (PostgreSQL aborts one side) is retried whole, since nothing of it was
//! committed.
use super::commands::{self, Booked, Registered};
use crate::db::{Db, now};
use crate::error::StoreError;
use crate::live::SeatChanges;
use crate::mail::MailJob;
use crate::outbox::{DomainEvent, EventType};
use app::auth::UserView;
use app::bookings::RegistrationStatus;
use app::bookings::rules::check_quantity;
use app::bookings::{NewRegistration, RegistrationId};
use app::error::AppError;
use app::events::EventId;
use app::events::rules::MAX_PER_REGISTRATION;
use app::ssr::internal;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most requests one transaction carries.
pub const MAX_BATCH: usize = 256;

pub enum Command {
    Register {
        actor: UserView,
        new: NewRegistration,
    },
    Cancel {
        actor: UserView,
        id: RegistrationId,
    },
}

impl Command {
    /// Sort key for lock ordering: bookings by event id; cancellations last, by registration.
    fn order_key(&self) -> (i64, i64) {
        match self {
            Command::Register { new, .. } => (new.event_id.get(), 0),
            Command::Cancel { id, .. } => (i64::MAX, id.get()),
        }
    }
}

/// What the writer did for one request.
pub enum Done {
    Booked(Booked),
    /// A booking whose idempotency key an earlier request used: the registration it made.
    Replayed(RegistrationId),
    Cancelled(RegistrationId),
}

struct Job {
    command: Command,
    reply: oneshot::Sender<Result<Done, AppError>>,
}

/// The sending side of this process's writer.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts this process's booking writer.
    pub fn start(db: Db, seat_changes: Arc<SeatChanges>) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, rx, seat_changes));
        Writer { jobs }
    }

    /// Hands a command to the writer and waits for its answer (after the commit). Input that
    /// no ticket type could accept is refused here, before it reaches the batch.
    pub async fn submit(&self, command: Command) -> Result<Done, AppError> {
        let metrics = crate::metrics::bookings();
        if let Command::Register { new, .. } = &command
            && let Err(e) = check_quantity(new.quantity, MAX_PER_REGISTRATION)
        {
            metrics.booked("refused");
            return Err(e);
        }
        let (reply, answer) = oneshot::channel();
        metrics.queued();
        if self.jobs.send(Job { command, reply }).await.is_err() {
            metrics.batch(1);
            return Err(internal("the booking writer has stopped"));
        }
        answer
            .await
            .map_err(|_| internal("the booking writer dropped a request"))?
    }
}

/// What a committed batch did: one answer per job, and the events whose seats changed.
struct Written {
    results: Vec<Result<Done, AppError>>,
    touched: Vec<EventId>,
}

/// Why a batch committed nothing: the error, and where it met it.
struct Failed {
    error: StoreError,
    at: Stage,
}

#[derive(Clone, Copy)]
enum Stage {
    Begin,
    /// The job at this index of the batch.
    Job(usize),
    /// Writing the batch's jobs.
    Outbox,
    /// The commit: whether it happened is unknown, so the batch is never run again.
    Commit,
}

/// Runs one batch in one transaction. A refused command leaves the transaction as it found it
/// (see [`commands`]); a database error fails the whole batch, which commits nothing, and says
/// which job met it.
async fn write_batch(db: &Db, jobs: &[Job]) -> Result<Written, Failed> {
    let mut tx = db.begin_write().await.map_err(|e| Failed {
        error: e.into(),
        at: Stage::Begin,
    })?;
    let mut results = Vec::with_capacity(jobs.len());
    let mut touched = Vec::new();
    // The mail and the domain event each booking causes, written by one insert before the
    // commit (the outbox).
    let mut outbox = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let now = now();
        let outcome = match &job.command {
            Command::Register { actor, new } => commands::register_once(&mut tx, actor, new, now)
                .await
                .map(|registered| match registered {
                    Registered::Booked(booked) => {
                        touched.push(booked.event_id);
                        outbox.push(booked_mail(&booked).job(now));
                        outbox.push(booked_event(&booked, now).job());
                        Done::Booked(booked)
                    }
                    Registered::Replayed(id) => Done::Replayed(id),
                }),
            Command::Cancel { actor, id } => {
                commands::cancel(&mut tx, actor, *id, now)
                    .await
                    .map(|event| {
                        touched.extend(event);
                        Done::Cancelled(*id)
                    })
            }
        };
        match outcome {
            Ok(done) => results.push(Ok(done)),
            Err(StoreError::App(refused)) => results.push(Err(refused)),
            Err(error) => {
                return Err(Failed {
                    error,
                    at: Stage::Job(i),
                });
            }
        }
    }
    crate::jobs::enqueue(&mut tx, &outbox, now())
        .await
        .map_err(|error| Failed {
            error,
            at: Stage::Outbox,
        })?;
    tx.commit().await.map_err(|e| Failed {
        error: e.into(),
        at: Stage::Commit,
    })?;
    if !outbox.is_empty() {
        crate::jobs::wake_local();
    }
    Ok(Written { results, touched })
}

/// The mail a booking sends: its confirmation, or its place on the waitlist.
fn booked_mail(booked: &Booked) -> MailJob {
    let registration_id = booked.id.get();
    match booked.waitlist_position {
        Some(position) if booked.status == RegistrationStatus::Waitlisted => {
            MailJob::RegistrationWaitlisted {
                registration_id,
                position,
            }
        }
        _ => MailJob::RegistrationConfirmed { registration_id },
    }
}

/// The domain event a booking is: confirmed, or waitlisted.
fn booked_event(booked: &Booked, now: chrono::DateTime<chrono::Utc>) -> DomainEvent {
    let kind = if booked.status == RegistrationStatus::Waitlisted {
        EventType::RegistrationWaitlisted
    } else {
        EventType::RegistrationConfirmed
    };
    DomainEvent::new(
        kind,
        booked.event_id,
        serde_json::json!({
            "registration_id": booked.id.get(),
            "ticket_type_id": booked.ticket_type_id.get(),
            "quantity": booked.quantity,
            "status": booked.status.code(),
            "waitlist_position": booked.waitlist_position,
        }),
        now,
    )
}

/// Commits a batch, so that one request cannot fail the others: a transient error (SQLite busy,
/// a PostgreSQL deadlock, serialization failure or lost connection) before the commit runs the
/// batch again; any other database error met by one job answers that job `Internal` and runs
/// the batch again without it. The common path stays one transaction with
/// no savepoints; only a failing batch pays for the retries.
async fn commit_batch(db: &Db, mut batch: Vec<Job>, seat_changes: &SeatChanges) {
    let mut transient_retries = 0;
    while !batch.is_empty() {
        match write_batch(db, &batch).await {
            Ok(Written {
                results,
                mut touched,
            }) => {
                for (job, result) in batch.into_iter().zip(results) {
                    count(&job.command, &result);
                    let _ = job.reply.send(result);
                }
                touched.sort_unstable();
                touched.dedup();
                seat_changes.changed(&touched);
                return;
            }
            Err(Failed { error, at })
                if !matches!(at, Stage::Commit) && error.transient() && transient_retries < 5 =>
            {
                transient_retries += 1;
                tracing::warn!(error = %error, attempt = transient_retries, "booking batch runs again");
            }
            Err(Failed {
                error,
                at: Stage::Job(i),
            }) => {
                let job = batch.remove(i);
                tracing::error!(error = %error, left = batch.len(), "a booking request failed; the batch runs again without it");
                count(&job.command, &Err(AppError::Internal));
                let _ = job.reply.send(Err(AppError::Internal));
            }
            Err(Failed { error, .. }) => {
                tracing::error!(error = %error, jobs = batch.len(), "booking batch failed; nothing was committed");
                for job in batch {
                    count(&job.command, &Err(AppError::Internal));
                    let _ = job.reply.send(Err(AppError::Internal));
                }
                return;
            }
        }
    }
}

/// A booking's outcome in `eventhub_bookings_total` (cancellations and replays are not counted).
fn count(command: &Command, result: &Result<Done, AppError>) {
    let outcome = match (command, result) {
        (Command::Cancel { .. }, _) | (_, Ok(Done::Replayed(_) | Done::Cancelled(_))) => return,
        (_, Ok(Done::Booked(b))) if b.status == RegistrationStatus::Waitlisted => "waitlisted",
        (_, Ok(Done::Booked(_))) => "confirmed",
        (_, Err(AppError::Internal)) => "failed",
        (_, Err(_)) => "refused",
    };
    crate::metrics::bookings().booked(outcome);
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>, seat_changes: Arc<SeatChanges>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        crate::metrics::bookings().batch(batch.len());
        // Bookings lock events in id order in every process (cancellations, whose event is only
        // known inside the transaction, go last); a deadlock that remains is retried.
        batch.sort_by_key(|job| job.command.order_key());
        commit_batch(&db, batch, &seat_changes).await;
    }
}
