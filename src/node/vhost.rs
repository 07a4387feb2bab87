//! A configured virtual host: its storage root, stores and users. Built
//! before the host forks (no database is opened, no thread started), used by
//! every worker thread afterwards.

use crate::gate::Gates;
use crate::node::config::VhostConfig;
use crate::node::verify_once::Verdicts;
use crate::store::catalog::Catalog;
use crate::store::expiring::ExpiringIndex;
use crate::store::hash_path;
use crate::store::intents::IntentLog;
use crate::store::objects::ObjectStore;
use crate::store::part_power;
use crate::store::quarantine::Quarantine;
use crate::store::tokens::TokenStore;
use crate::store::write::Writer;
use crate::store::StoreError;

pub struct Vhost {
    pub config: VhostConfig,
    pub objects: ObjectStore,
    pub catalog: Catalog,
    pub tokens: TokenStore,
    /// Objects with an X-Delete-At, for the expiry sweep.
    pub expiring: ExpiringIndex,
    /// Markers of two-step writes in flight, for crash recovery.
    pub intents: IntentLog,
    /// Where objects that fail verification go.
    pub quarantine: Quarantine,
    /// Admission gates; their shared state is mapped on first use.
    pub gates: Gates,
    /// Verdicts of object checks, shared node-wide; opened on first use.
    pub verdicts: Verdicts,
}

impl Vhost {
    /// Nothing is created on disk here but the catalog's directories and
    /// the record of the hash-path salt: the host builds vhosts in its
    /// parent process (as the workers' user when it starts as root). Each
    /// store makes its other directories on first use. Err
    /// (`StoreError::WrongSalt`) when the configured salt is not the one
    /// the root was written with: nothing stored would be found; and
    /// (`StoreError::WrongLayout`) for a root in Stowage's old object
    /// format or of another part power (`store::part_power`).
    pub fn new(config: VhostConfig) -> Result<Vhost, StoreError> {
        let root = &config.root;
        let hash_path = &config.hash_path;
        let catalog = Catalog::with_hash_path(root, hash_path.clone())?;
        hash_path::bind_root(root, hash_path)?;
        part_power::bind_root(root, part_power::DEFAULT_PART_POWER)?;
        Ok(Vhost {
            objects: ObjectStore::with_hash_path(root, hash_path.clone()),
            catalog,
            tokens: TokenStore::new(root, config.token_life),
            expiring: ExpiringIndex::with_hash_path(root, hash_path.clone()),
            intents: IntentLog::new(root),
            quarantine: Quarantine::new(root),
            gates: Gates::new(root, &config.gates),
            verdicts: Verdicts::new(root),
            config,
        })
    }

    /// The stores an object write goes through (`store::write`).
    pub fn writer(&self) -> Writer<'_> {
        Writer {
            objects: &self.objects,
            catalog: &self.catalog,
            intents: &self.intents,
            expiring: &self.expiring,
        }
    }

    /// Per-process reset after the host forks a worker.
    pub fn after_fork(&self) {
        self.catalog.after_fork();
        self.tokens.after_fork();
    }
}
