//! Which admission gate a Swift request passes (`gate::admission::serve`
//! runs it there): objects by device, reads apart from writes; accounts and
//! containers by database.

use crate::gate::admission::db_key;
use crate::gate::Kind;
use crate::swift::names::Target;

/// The gate a request `method` on `target` passes, and the database lane
/// in it: objects share their device's lane 0.
pub fn gate_of(target: &Target, method: &str) -> (Kind, u64) {
    match target {
        Target::Account { account } => (Kind::Account, db_key(&[account])),
        Target::Container { account, container } => {
            (Kind::Container, db_key(&[account, container]))
        }
        Target::Object { .. } if method == "GET" || method == "HEAD" => (Kind::ObjectRead, 0),
        Target::Object { .. } => (Kind::ObjectWrite, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_reads_and_writes_pass_different_gates() {
        let kind_of = |t: &Target, m: &str| gate_of(t, m).0;
        let obj = Target::Object {
            account: "AUTH_a".into(),
            container: "c".into(),
            object: "o".into(),
        };
        for m in ["GET", "HEAD"] {
            assert_eq!(gate_of(&obj, m), (Kind::ObjectRead, 0), "{m}");
        }
        for m in ["PUT", "POST", "DELETE", "COPY", "OPTIONS"] {
            assert_eq!(gate_of(&obj, m), (Kind::ObjectWrite, 0), "{m}");
        }
        let cont = Target::Container {
            account: "AUTH_a".into(),
            container: "c".into(),
        };
        assert_eq!(kind_of(&cont, "GET"), Kind::Container);
        let acct = Target::Account {
            account: "AUTH_a".into(),
        };
        assert_eq!(kind_of(&acct, "PUT"), Kind::Account);
    }

    #[test]
    fn containers_hash_apart_by_name() {
        let lane = |a: &str, c: &str| {
            let t = Target::Container {
                account: a.into(),
                container: c.into(),
            };
            gate_of(&t, "GET").1
        };
        assert_eq!(lane("AUTH_test", "a"), 0xbd42_af32_75f0_a700);
        assert_ne!(lane("AUTH_test", "a"), lane("AUTH_test", "b"));
    }
}
