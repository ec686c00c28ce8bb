//! Reading the header of an Automerge chunk without loading it.
//!
//! Sync moves two kinds of Automerge chunk: single changes, and whole compacted
//! documents (a record the receiver has never seen travels as one document: about a
//! tenth of the bytes of its changes, and no per-change work on either side). A
//! receiver must check who wrote a chunk before acknowledging it, but loading a
//! document costs about a millisecond; the chunk header and a document's actor table
//! are enough for that check, and this module reads only them, checking Automerge's
//! own checksum over the whole chunk. The full load (and everything it verifies)
//! happens later, off the acknowledgement path; a chunk that fails it is
//! quarantined.
//!
//! Layout (Automerge binary format): magic `85 6f 4a 83` | checksum (first 4 bytes
//! of SHA-256 over type, length and data) | type (0 document, 1 change, 2 compressed
//! change) | data length (ULEB128) | data. A document's data starts with its actor
//! table: count (ULEB128), then each actor id as length (ULEB128) + bytes.

use automerge::{Automerge, Change};
use sha2::{Digest, Sha256};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// No actor id of ours is longer (`tern:<uuid>:<user name>`).
const MAX_ACTOR: u64 = 256;
/// A document written by more devices and users than this is not one of ours.
const MAX_ACTORS: u64 = 4096;

/// What an Automerge chunk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    /// A whole (compacted) document: every change up to its heads.
    Document,
    /// One change (plain or compressed).
    Change,
}

/// Why a chunk header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("not an Automerge chunk (bad magic or too short)")]
    NotAChunk,
    #[error("unknown Automerge chunk type {0}")]
    UnknownType(u8),
    #[error("the chunk is truncated or has bytes after its end")]
    Length,
    #[error("the chunk's checksum does not match its contents")]
    Checksum,
    #[error("the document's actor table is damaged")]
    Actors,
}

/// Why a document could not be loaded from its chunks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("damaged chunk: {0}")]
    Chunk(#[from] ChunkError),
    #[error("damaged document: {0}")]
    Document(String),
    #[error("damaged change: {0}")]
    Change(String),
    #[error("changes do not apply: {0}")]
    Apply(String),
}

/// A document from its chunks: whole documents and changes, in any order (changes
/// whose dependencies are missing wait inside the document).
pub fn load_chunks(chunks: impl IntoIterator<Item = Vec<u8>>) -> Result<Automerge, LoadError> {
    let mut doc = Automerge::new();
    apply_chunks(&mut doc, chunks)?;
    Ok(doc)
}

/// Applies chunks (whole documents and changes) to a loaded document. On an error
/// the document may hold part of them: discard it.
pub fn apply_chunks(
    doc: &mut Automerge,
    chunks: impl IntoIterator<Item = Vec<u8>>,
) -> Result<(), LoadError> {
    let mut changes = Vec::new();
    for raw in chunks {
        match chunk_kind(&raw)? {
            ChunkKind::Document => {
                doc.load_incremental(&raw)
                    .map_err(|e| LoadError::Document(e.to_string()))?;
            }
            ChunkKind::Change => {
                changes.push(Change::from_bytes(raw).map_err(|e| LoadError::Change(e.to_string()))?)
            }
        }
    }
    doc.apply_changes(changes)
        .map_err(|e| LoadError::Apply(e.to_string()))
}

/// The kind of a chunk, after checking its magic, length and checksum.
pub fn chunk_kind(bytes: &[u8]) -> Result<ChunkKind, ChunkError> {
    Ok(parse_header(bytes)?.0)
}

/// The actor ids of a whole-document chunk (every author of its changes appears
/// here: Automerge refers to actors by their index in this table). Checks the
/// header and checksum first.
pub fn document_actors(bytes: &[u8]) -> Result<Vec<Vec<u8>>, ChunkError> {
    let (kind, data) = parse_header(bytes)?;
    if kind != ChunkKind::Document {
        return Err(ChunkError::Actors);
    }
    let mut at = 0;
    let count = uleb(data, &mut at).ok_or(ChunkError::Actors)?;
    if count > MAX_ACTORS {
        return Err(ChunkError::Actors);
    }
    let mut actors = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let len = uleb(data, &mut at).ok_or(ChunkError::Actors)?;
        if len > MAX_ACTOR {
            return Err(ChunkError::Actors);
        }
        let end = at + len as usize;
        let actor = data.get(at..end).ok_or(ChunkError::Actors)?;
        actors.push(actor.to_vec());
        at = end;
    }
    Ok(actors)
}

/// The SHA-256 that names a whole-document chunk (a change is named by its own
/// Automerge hash instead).
pub fn document_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn parse_header(bytes: &[u8]) -> Result<(ChunkKind, &[u8]), ChunkError> {
    if bytes.len() < 10 || bytes[..4] != MAGIC {
        return Err(ChunkError::NotAChunk);
    }
    let checksum = &bytes[4..8];
    let raw_type = bytes[8];
    let kind = match raw_type {
        0 => ChunkKind::Document,
        1 | 2 => ChunkKind::Change,
        other => return Err(ChunkError::UnknownType(other)),
    };
    let mut at = 9;
    let len = uleb(bytes, &mut at).ok_or(ChunkError::Length)?;
    let header = &bytes[8..at];
    let data = bytes.get(at..).ok_or(ChunkError::Length)?;
    if data.len() as u64 != len {
        return Err(ChunkError::Length);
    }
    let mut hasher = Sha256::new();
    hasher.update(header);
    hasher.update(data);
    let hash = hasher.finalize();
    if hash[..4] != *checksum {
        return Err(ChunkError::Checksum);
    }
    Ok((kind, data))
}

/// Reads an unsigned LEB128 number (at most 10 bytes) at `*at`, moving `*at` past it.
fn uleb(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value: u64 = 0;
    for shift in 0..10 {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7f).checked_shl(7 * shift)?;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{transaction::Transactable, ActorId, AutoCommit, ROOT};

    fn doc_by(actors: &[&str]) -> AutoCommit {
        let mut doc = AutoCommit::new();
        for (i, a) in actors.iter().enumerate() {
            doc.set_actor(ActorId::from(a.as_bytes().to_vec()));
            doc.put(ROOT, format!("k{i}"), "v").expect("put");
            doc.commit();
        }
        doc
    }

    #[test]
    fn reads_the_actors_of_a_document() {
        let mut doc = doc_by(&["tern:dev1:amina", "tern:dev2:jonas"]);
        let bytes = doc.save();
        assert_eq!(chunk_kind(&bytes), Ok(ChunkKind::Document));
        let mut actors = document_actors(&bytes).expect("actors");
        actors.sort();
        assert_eq!(
            actors,
            vec![b"tern:dev1:amina".to_vec(), b"tern:dev2:jonas".to_vec()]
        );
    }

    #[test]
    fn a_change_is_a_change() {
        let mut doc = doc_by(&["tern:dev1:amina"]);
        let change = doc
            .get_last_local_change()
            .expect("a change")
            .raw_bytes()
            .to_vec();
        assert_eq!(chunk_kind(&change), Ok(ChunkKind::Change));
        assert_eq!(document_actors(&change), Err(ChunkError::Actors));
    }

    #[test]
    fn damage_is_refused() {
        let bytes = doc_by(&["tern:dev1:amina"]).save();
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(chunk_kind(&flipped), Err(ChunkError::Checksum));
        assert_eq!(
            chunk_kind(&bytes[..bytes.len() - 1]),
            Err(ChunkError::Length)
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(chunk_kind(&longer), Err(ChunkError::Length));
        assert_eq!(chunk_kind(b"TERN"), Err(ChunkError::NotAChunk));
        let mut typed = bytes.clone();
        typed[8] = 9;
        assert_eq!(chunk_kind(&typed), Err(ChunkError::UnknownType(9)));
    }

    /// Writes a whole document and a change as seeds of the `sync_message` fuzz
    /// corpus when `TERN_WRITE_CORPUS` names its folder (run by hand).
    #[test]
    fn write_seed_chunks() {
        let Ok(dir) = std::env::var("TERN_WRITE_CORPUS") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        let mut doc = doc_by(&["tern:dev1:amina", "tern:dev2:jonas"]);
        std::fs::write(dir.join("chunk_document"), doc.save_nocompress()).expect("write");
        let change = doc
            .get_last_local_change()
            .expect("a change")
            .raw_bytes()
            .to_vec();
        std::fs::write(dir.join("chunk_change"), change).expect("write");
    }

    #[test]
    fn no_input_panics() {
        for n in 0..64u8 {
            let mut b = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 0];
            b.extend(std::iter::repeat_n(0xff, n as usize));
            let _ = document_actors(&b);
            let _ = chunk_kind(&b);
        }
    }
}
