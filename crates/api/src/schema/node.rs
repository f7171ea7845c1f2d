//! Global object ids and the `Node` interface: an id is base64 of `Type:key` (a release's
//! uuid, a programme's or office's slug), so `node(id:)` can find any object from its id alone.

use async_graphql::{ID, Interface};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::ApiError;
use crate::schema::objects::{Office, Programme, Release};

/// What a global id points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalId {
    Release(Uuid),
    Programme(String),
    Office(String),
}

impl GlobalId {
    pub fn encode(&self) -> ID {
        let plain = match self {
            GlobalId::Release(id) => format!("Release:{id}"),
            GlobalId::Programme(slug) => format!("Programme:{slug}"),
            GlobalId::Office(slug) => format!("Office:{slug}"),
        };
        ID(URL_SAFE_NO_PAD.encode(plain))
    }

    pub fn decode(id: &str) -> Result<GlobalId, ApiError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(id)
            .map_err(|_| ApiError::MalformedId)?;
        let plain = String::from_utf8(bytes).map_err(|_| ApiError::MalformedId)?;
        let (kind, key) = plain.split_once(':').ok_or(ApiError::MalformedId)?;
        match kind {
            "Release" => Uuid::try_parse(key)
                .map(GlobalId::Release)
                .map_err(|_| ApiError::MalformedId),
            "Programme" if !key.is_empty() => Ok(GlobalId::Programme(key.to_owned())),
            "Office" if !key.is_empty() => Ok(GlobalId::Office(key.to_owned())),
            _ => Err(ApiError::MalformedId),
        }
    }
}

/// An object with a global id, which `Query.node` resolves.
#[derive(Debug, Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Opaque global id of the object: pass it to `Query.node` to fetch the object again."
))]
pub enum Node {
    Release(Release),
    Programme(Programme),
    Office(Office),
}

#[cfg(test)]
mod tests {
    use super::GlobalId;

    #[test]
    fn ids_round_trip_and_reject_anything_else() {
        let ids = [
            GlobalId::Release(uuid::Uuid::nil()),
            GlobalId::Programme("score".to_owned()),
            GlobalId::Office("beijing".to_owned()),
        ];
        for id in ids {
            assert_eq!(GlobalId::decode(&id.encode().0).ok(), Some(id));
        }
        use base64::Engine;
        let encode = |plain: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(plain);
        for bad in [
            "".to_owned(),
            "not base64!".to_owned(),
            encode("Release:not-a-uuid"),
            encode("Office:"),
            encode("Person:ada"),
        ] {
            assert!(GlobalId::decode(&bad).is_err(), "{bad}");
        }
    }
}
