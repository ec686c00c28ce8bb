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
//!
//! Inflated sizes are bounded here before Automerge sees a chunk ([`check_size`]):
//! Automerge inflates a compressed change (type 2) and a document's deflated
//! columns without a limit, so a chunk of a few hundred KB could ask for
//! gigabytes. A change holds no deflated columns of its own (Automerge refuses
//! them); a document's are listed in its column tables: `count (ULEB128)`, then
//! per column `spec (ULEB128; bit 3 = deflated) | length (ULEB128)`, for the
//! change columns and then the op columns, after the actor table and the heads
//! (`count`, 32 bytes each); the column data follows in the same order.

use automerge::{Automerge, Change};
use sha2::{Digest, Sha256};
use std::io::Read;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// No actor id of ours is longer (`tern:<uuid>:<user name>`).
const MAX_ACTOR: u64 = 256;
/// A document written by more devices and users than this is not one of ours.
const MAX_ACTORS: u64 = 4096;

/// The most a chunk may inflate to: a change (a compressed change inflated), a
/// document (its data with every deflated column inflated). Our largest realistic
/// record document is a few hundred KB inflated, a change a few KB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// Bytes a change may hold once inflated (default 8 MiB).
    pub change: u64,
    /// Bytes a whole document may hold once its columns are inflated (default 64 MiB).
    pub document: u64,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits {
            change: 8 << 20,
            document: 64 << 20,
        }
    }
}

/// What an Automerge chunk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    /// A whole (compacted) document: every change up to its heads.
    Document,
    /// One change (uncompressed; a compressed change is refused).
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
    #[error("the document's column table is damaged")]
    Columns,
    #[error("a compressed part of the chunk is damaged")]
    Deflate,
    #[error("a compressed change (Tern sends changes uncompressed: inflate it first)")]
    Compressed,
    #[error(
        "the {kind} inflates to more than {limit} bytes, the most a {kind} may hold \
         on this server (a larger one is not made by Tern)"
    )]
    TooLarge { kind: &'static str, limit: u64 },
    #[error(
        "a column of the document declares more than {limit} rows, the most a document \
         may hold on this server (a run-length bomb: not made by Tern)"
    )]
    TooManyRows { limit: u64 },
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
/// whose dependencies are missing wait inside the document). Sizes bounded by the
/// default [`ChunkLimits`].
pub fn load_chunks(chunks: impl IntoIterator<Item = Vec<u8>>) -> Result<Automerge, LoadError> {
    load_chunks_within(chunks, &ChunkLimits::default())
}

/// [`load_chunks`] with these limits.
pub fn load_chunks_within(
    chunks: impl IntoIterator<Item = Vec<u8>>,
    limits: &ChunkLimits,
) -> Result<Automerge, LoadError> {
    let mut doc = Automerge::new();
    apply_chunks_within(&mut doc, chunks, limits)?;
    Ok(doc)
}

/// Applies chunks (whole documents and changes) to a loaded document. On an error
/// the document may hold part of them: discard it. Sizes bounded by the default
/// [`ChunkLimits`].
pub fn apply_chunks(
    doc: &mut Automerge,
    chunks: impl IntoIterator<Item = Vec<u8>>,
) -> Result<(), LoadError> {
    apply_chunks_within(doc, chunks, &ChunkLimits::default())
}

/// [`apply_chunks`] with these limits: every chunk's inflated size is checked
/// ([`check_size`]) before Automerge reads it.
pub fn apply_chunks_within(
    doc: &mut Automerge,
    chunks: impl IntoIterator<Item = Vec<u8>>,
    limits: &ChunkLimits,
) -> Result<(), LoadError> {
    let mut changes = Vec::new();
    for raw in chunks {
        check_size(&raw, limits)?;
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

/// Checks a chunk's header and checksum and that it inflates to no more than
/// `limits` allow (a change to `limits.change`, a document to `limits.document`);
/// returns its inflated size. Compressed changes (type 2) are refused outright
/// ([`ChunkError::Compressed`]). A document's deflated columns are inflated only to
/// count, in 64 KiB steps, stopping at the limit: a bomb costs at most the limit's
/// worth of CPU and 64 KiB of memory for raw value columns; other columns (small
/// run-length encoded integers) are inflated into memory, at most to the limit, to
/// count their rows. Every column's rows are counted, and a document
/// whose run-length encoding declares more than one row per 64 bytes of
/// `limits.document` in a column is refused ([`ChunkError::TooManyRows`]): Automerge
/// would decode them all into memory.
pub fn check_size(bytes: &[u8], limits: &ChunkLimits) -> Result<u64, ChunkError> {
    let (kind, data) = parse_header(bytes)?;
    match kind {
        ChunkKind::Change => {
            if data.len() as u64 > limits.change {
                return Err(ChunkError::TooLarge {
                    kind: "change",
                    limit: limits.change,
                });
            }
            change_rows(data, limits.change / ROW_BYTES)?;
            Ok(data.len() as u64)
        }
        ChunkKind::Document => document_size(data, limits.document),
    }
}

/// The inflated size of a document's data (see the module's notes on the layout).
fn document_size(data: &[u8], limit: u64) -> Result<u64, ChunkError> {
    let too_large = ChunkError::TooLarge {
        kind: "document",
        limit,
    };
    let mut at = 0;
    let actors = uleb(data, &mut at).ok_or(ChunkError::Actors)?;
    if actors > MAX_ACTORS {
        return Err(ChunkError::Actors);
    }
    for _ in 0..actors {
        let len = uleb(data, &mut at).ok_or(ChunkError::Actors)?;
        if len > MAX_ACTOR {
            return Err(ChunkError::Actors);
        }
        at += len as usize;
    }
    let heads = uleb(data, &mut at).ok_or(ChunkError::Columns)?;
    at = heads
        .checked_mul(32)
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| at.checked_add(n))
        .filter(|end| *end <= data.len())
        .ok_or(ChunkError::Columns)?;
    // The change columns' table, then the op columns': (spec, length) each.
    let mut columns = Vec::new();
    for _ in 0..2 {
        let count = uleb(data, &mut at).ok_or(ChunkError::Columns)?;
        for _ in 0..count {
            let spec = uleb(data, &mut at).ok_or(ChunkError::Columns)?;
            let len = uleb(data, &mut at).ok_or(ChunkError::Columns)?;
            columns.push((spec, len));
        }
    }
    let mut size = data.len() as u64;
    let max_rows = limit / ROW_BYTES;
    for (spec, len) in columns {
        let end = usize::try_from(len)
            .ok()
            .and_then(|n| at.checked_add(n))
            .filter(|end| *end <= data.len())
            .ok_or(ChunkError::Columns)?;
        if spec & 0b1000 != 0 {
            let budget = limit.saturating_sub(size - len);
            let inflated = if spec & 0b111 == RAW_VALUES {
                // Most of a document's bytes, and no rows of their own: counted only.
                inflated_len(&data[at..end], budget)?
            } else {
                inflate_within(&data[at..end], budget)?
                    .map(|column| column_rows(spec, &column, max_rows).map(|_| column.len() as u64))
                    .transpose()?
            };
            size = size - len + inflated.ok_or(too_large.clone())?;
        } else {
            column_rows(spec, &data[at..end], max_rows)?;
        }
        at = end;
    }
    if size > limit {
        return Err(too_large);
    }
    Ok(size)
}

/// The length of a raw DEFLATE stream once inflated, or `None` past `budget`.
fn inflated_len(deflated: &[u8], budget: u64) -> Result<Option<u64>, ChunkError> {
    let mut inflater = flate2::bufread::DeflateDecoder::new(deflated);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = inflater.read(&mut buf).map_err(|_| ChunkError::Deflate)?;
        if n == 0 {
            return Ok(Some(total));
        }
        total += n as u64;
        if total > budget {
            return Ok(None);
        }
    }
}

/// The column type of raw values (the strings and numbers themselves).
const RAW_VALUES: u64 = 7;

/// A raw DEFLATE stream inflated, or `None` past `budget` bytes (inflated in 64 KiB
/// steps, so a bomb stops one step past the budget).
fn inflate_within(deflated: &[u8], budget: u64) -> Result<Option<Vec<u8>>, ChunkError> {
    let mut inflater = flate2::bufread::DeflateDecoder::new(deflated);
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    loop {
        let n = inflater.read(&mut buf).map_err(|_| ChunkError::Deflate)?;
        if n == 0 {
            return Ok(Some(out));
        }
        out.extend_from_slice(&buf[..n]);
        if out.len() as u64 > budget {
            return Ok(None);
        }
    }
}

/// The rows a document column may declare: one per this many bytes of the document
/// limit (1 Mi rows at the default 64 MiB; a record document has a few thousand
/// ops).
const ROW_BYTES: u64 = 64;

/// Counts the rows a column declares (Automerge's columnar encodings: run-length
/// runs of ULEB128, SLEB128 deltas or strings; boolean runs; raw values) and refuses
/// more than `max`. A run-length column of a few bytes can declare billions of rows,
/// which Automerge's load decodes into memory (found by fuzzing: a 37-byte document
/// asked for gigabytes). A damaged column is left to Automerge to refuse: counting
/// stops where it cannot read on.
fn column_rows(spec: u64, data: &[u8], max: u64) -> Result<u64, ChunkError> {
    let value: fn(&[u8], &mut usize) -> Option<()> = match spec & 0b111 {
        // Group, actor, unsigned integer, value metadata.
        0 | 1 | 2 | 6 => |d, at| uleb(d, at).map(|_| ()),
        // Delta.
        3 => |d, at| sleb(d, at).map(|_| ()),
        4 => return boolean_rows(data, max),
        5 => |d, at| {
            let len = usize::try_from(uleb(d, at)?).ok()?;
            *at = at.checked_add(len).filter(|end| *end <= d.len())?;
            Some(())
        },
        // Raw values (7): their rows are counted by their metadata column.
        _ => return Ok(0),
    };
    let mut at = 0;
    let mut rows: u64 = 0;
    while at < data.len() {
        let Some(n) = sleb(data, &mut at) else {
            break;
        };
        let run = if n > 0 {
            if value(data, &mut at).is_none() {
                break;
            }
            n.unsigned_abs()
        } else if n < 0 {
            // Literal values: each takes at least a byte, so the data bounds them.
            let mut read = 0;
            while read < n.unsigned_abs() && value(data, &mut at).is_some() {
                read += 1;
            }
            read
        } else {
            let Some(nulls) = uleb(data, &mut at) else {
                break;
            };
            nulls
        };
        rows = rows.saturating_add(run);
        if rows > max {
            return Err(ChunkError::TooManyRows { limit: max });
        }
    }
    Ok(rows)
}

/// Counts the rows of a change's op columns, as [`column_rows`] for a document's.
/// Layout: dependencies (count, 32 bytes each), actor (length, bytes), sequence
/// number, start op, time (signed), message (length, bytes), other actors (count,
/// each length and bytes), the column table (count, then spec and length each),
/// the column data. A header it cannot read is left to Automerge to refuse.
fn change_rows(data: &[u8], max: u64) -> Result<(), ChunkError> {
    let skip = |at: &mut usize, n: u64| -> Option<()> {
        *at = usize::try_from(n)
            .ok()
            .and_then(|n| at.checked_add(n))
            .filter(|end| *end <= data.len())?;
        Some(())
    };
    let columns = || -> Option<Vec<(u64, usize, usize)>> {
        let mut at = 0;
        let deps = uleb(data, &mut at)?;
        skip(&mut at, deps.checked_mul(32)?)?;
        let actor = uleb(data, &mut at)?;
        skip(&mut at, actor)?;
        uleb(data, &mut at)?;
        uleb(data, &mut at)?;
        sleb(data, &mut at)?;
        let message = uleb(data, &mut at)?;
        skip(&mut at, message)?;
        let others = uleb(data, &mut at)?;
        for _ in 0..others {
            let len = uleb(data, &mut at)?;
            skip(&mut at, len)?;
        }
        let count = uleb(data, &mut at)?;
        let mut table = Vec::new();
        for _ in 0..count {
            let spec = uleb(data, &mut at)?;
            let len = uleb(data, &mut at)?;
            table.push((spec, len));
        }
        let mut out = Vec::new();
        for (spec, len) in table {
            let start = at;
            skip(&mut at, len)?;
            out.push((spec, start, at));
        }
        Some(out)
    };
    for (spec, start, end) in columns().unwrap_or_default() {
        // A change holds no deflated columns (Automerge refuses them).
        if spec & 0b1000 == 0 {
            column_rows(spec, &data[start..end], max)?;
        }
    }
    Ok(())
}

/// The rows of a boolean column: alternating run lengths, false first.
fn boolean_rows(data: &[u8], max: u64) -> Result<u64, ChunkError> {
    let mut at = 0;
    let mut rows: u64 = 0;
    while let Some(n) = uleb(data, &mut at) {
        rows = rows.saturating_add(n);
        if rows > max {
            return Err(ChunkError::TooManyRows { limit: max });
        }
    }
    Ok(rows)
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
        1 => ChunkKind::Change,
        // Its checksum covers the inflated change, so it cannot be checked without
        // inflating it; Tern never sends one.
        2 => return Err(ChunkError::Compressed),
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

/// Reads a signed LEB128 number (at most 10 bytes) at `*at`, moving `*at` past it.
fn sleb(bytes: &[u8], at: &mut usize) -> Option<i64> {
    let mut value: i64 = 0;
    let mut shift = 0u32;
    loop {
        if shift >= 70 {
            return None;
        }
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= i64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
        shift += 7;
        if b & 0x80 == 0 {
            if shift < 64 && b & 0x40 != 0 {
                value |= -1i64 << shift;
            }
            return Some(value);
        }
    }
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

    /// The `sync_message` fuzz corpus's Automerge seeds (`chunk_document`,
    /// `chunk_change`, committed) are real chunks this module reads.
    #[test]
    fn the_sync_message_corpus_holds_a_document_and_a_change() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/sync_message");
        for (name, kind) in [
            ("chunk_document", ChunkKind::Document),
            ("chunk_change", ChunkKind::Change),
        ] {
            let bytes = std::fs::read(dir.join(name)).expect(name);
            assert_eq!(chunk_kind(&bytes).expect(name), kind, "{name}");
        }
    }

    /// A chunk of `kind` around `data`, with a good checksum.
    pub(crate) fn chunk(kind: u8, data: &[u8]) -> Vec<u8> {
        crate::fuzzing::seal(kind, data)
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).expect("deflate");
        e.finish().expect("deflate")
    }

    /// A document chunk by `tern:dev1:amina` whose one change column is `inflated`
    /// zero bytes, deflated: a decompression bomb of a few KB per 10 MiB.
    fn document_bomb(inflated: usize) -> Vec<u8> {
        let column = deflate(&vec![0u8; inflated]);
        let actor = b"tern:dev1:amina";
        let mut data = vec![1, actor.len() as u8];
        data.extend_from_slice(actor);
        data.push(0); // no heads
        data.push(1); // one change column: id 1, deflated, type 0
        data.push((1 << 4) | 0b1000);
        crate::fuzzing::push_uleb(&mut data, column.len());
        data.push(0); // no op columns
        data.extend(column);
        chunk(0, &data)
    }

    #[test]
    fn a_document_bomb_is_refused_before_automerge_inflates_it() {
        let bomb = document_bomb(65 << 20);
        assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
        // The actor table reads fine: this is what used to be acknowledged.
        assert_eq!(document_actors(&bomb).map(|a| a.len()), Ok(1));
        let too_large = ChunkError::TooLarge {
            kind: "document",
            limit: 64 << 20,
        };
        assert_eq!(
            check_size(&bomb, &ChunkLimits::default()),
            Err(too_large.clone())
        );
        match load_chunks([bomb]) {
            Err(LoadError::Chunk(e)) => assert_eq!(e, too_large),
            Err(e) => panic!("inflated by Automerge: {e}"),
            Ok(_) => panic!("loaded"),
        }
        // Under the limit it is counted exactly, and configurable.
        let small = document_bomb(1 << 20);
        let size = check_size(&small, &ChunkLimits::default()).expect("size");
        assert!(size > 1 << 20 && size < (1 << 20) + 100, "{size}");
        let limits = ChunkLimits {
            change: 1024,
            document: 1 << 20,
        };
        assert!(matches!(
            check_size(&small, &limits),
            Err(ChunkError::TooLarge { .. })
        ));
    }

    /// Found by `cargo fuzz run chunk` (fuzz/corpus/chunk/oom_rle_rows): a 34-byte
    /// document whose actor column is one run-length run of billions of rows, which
    /// Automerge's load decoded into gigabytes.
    #[test]
    fn a_run_length_bomb_is_refused_before_automerge_decodes_it() {
        let input = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fuzz/corpus/chunk/oom_rle_rows"),
        )
        .expect("the fuzz input");
        let bytes = crate::fuzzing::seal((input[0] - 1) % 3, &input[1..]);
        let limits = ChunkLimits::default();
        assert_eq!(
            check_size(&bytes, &limits),
            Err(ChunkError::TooManyRows {
                limit: limits.document / ROW_BYTES
            })
        );
        assert!(load_chunks_within([bytes], &limits).is_err());
        // A real document of many ops passes, compressed or not.
        let mut doc = AutoCommit::new();
        doc.set_actor(ActorId::from(b"tern:dev1:amina".to_vec()));
        for i in 0..5000 {
            doc.put(ROOT, format!("k{i}"), i).expect("put");
        }
        doc.commit();
        let small = ChunkLimits {
            change: 1 << 20,
            document: 5000 * ROW_BYTES,
        };
        for bytes in [doc.save(), doc.save_nocompress()] {
            assert!(check_size(&bytes, &small).is_ok());
            assert!(load_chunks_within([bytes], &small).is_ok());
        }
        // Each column's rows count against the limit.
        let tight = ChunkLimits {
            change: 1 << 20,
            document: 4000 * ROW_BYTES,
        };
        assert!(matches!(
            check_size(&doc.save_nocompress(), &tight),
            Err(ChunkError::TooManyRows { .. })
        ));
        // A change's op columns are counted too: one actor column, one run of
        // 2^33 rows, in 17 bytes.
        let body = [
            0, 1, b'a', 1, 1, 0, 0, 0, // deps, actor, seq, start op, time, message, others
            1, 0x11, 6, // one column (actor), 6 bytes
            0x80, 0x80, 0x80, 0x80, 0x20, 0, // run of 2^33, value 0
        ];
        let change = crate::fuzzing::seal(1, &body);
        assert_eq!(
            check_size(&change, &limits),
            Err(ChunkError::TooManyRows {
                limit: limits.change / ROW_BYTES
            })
        );
        // Real changes pass.
        let c = doc
            .get_last_local_change()
            .expect("change")
            .raw_bytes()
            .to_vec();
        assert!(check_size(&c, &small).is_ok());
    }

    #[test]
    fn a_change_past_the_limit_and_a_compressed_change_are_refused() {
        use automerge::transaction::CommitOptions;
        let mut doc = AutoCommit::new();
        doc.set_actor(ActorId::from(b"tern:dev1:amina".to_vec()));
        doc.put(ROOT, "k", "v").expect("put");
        // A real change whose message alone is 9 MiB.
        doc.commit_with(CommitOptions::default().with_message("a".repeat(9 << 20)));
        let mut change = doc.get_last_local_change().expect("change").clone();
        assert_eq!(
            check_size(change.raw_bytes(), &ChunkLimits::default()),
            Err(ChunkError::TooLarge {
                kind: "change",
                limit: 8 << 20,
            })
        );
        assert!(matches!(
            load_chunks([change.raw_bytes().to_vec()]),
            Err(LoadError::Chunk(ChunkError::TooLarge { .. }))
        ));
        // Compressed, it is a few KB that Automerge would inflate: never inflated.
        let compressed = change.bytes().to_vec();
        assert_eq!(compressed[8], 2, "a compressed change");
        assert!(compressed.len() < 100_000, "{} bytes", compressed.len());
        assert_eq!(
            check_size(&compressed, &ChunkLimits::default()),
            Err(ChunkError::Compressed)
        );
        assert_eq!(chunk_kind(&compressed), Err(ChunkError::Compressed));
    }

    #[test]
    fn real_chunks_are_measured_as_automerge_inflates_them() {
        let mut doc = doc_by(&["tern:dev1:amina", "tern:dev2:jonas"]);
        doc.put(ROOT, "long", "x".repeat(300_000)).expect("put");
        doc.commit();
        let plain = doc.save_nocompress();
        let compressed = doc.save();
        assert!(compressed.len() < plain.len() / 10, "columns deflated");
        let limits = ChunkLimits::default();
        let a = check_size(&plain, &limits).expect("plain");
        let b = check_size(&compressed, &limits).expect("compressed");
        assert!(a.abs_diff(b) < 64, "{a} vs {b}");
        assert!(load_chunks([compressed]).is_ok());
        let change = doc
            .get_last_local_change()
            .expect("change")
            .raw_bytes()
            .to_vec();
        assert!(check_size(&change, &limits).is_ok());
        assert_eq!(check_size(b"TERN", &limits), Err(ChunkError::NotAChunk));
    }

    /// A mutation run of the chunk reader with the size bounds in place (stable
    /// Rust, not in CI; the cargo-fuzz target is `fuzz/fuzz_targets/chunk.rs`):
    /// real chunks with random bytes changed, inserted or cut, their checksum made
    /// good again so that Automerge reads them, checked by `check_size` and loaded
    /// under `catch_unwind`. Prints how many loaded, were refused, or panicked.
    /// `TERN_MUTATIONS` sets the count (default 20,000).
    #[test]
    #[ignore = "a long mutation run, by hand: cargo test -p tern-record --lib chunk_mutations -- --ignored --nocapture"]
    fn chunk_mutations() {
        let n: u64 = std::env::var("TERN_MUTATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000);
        let mut doc = doc_by(&["tern:dev1:amina", "tern:dev2:jonas"]);
        doc.put(ROOT, "long", "x".repeat(400)).expect("put");
        doc.commit();
        let seeds = [
            doc.save_nocompress(),
            doc.save(),
            doc.get_last_local_change()
                .expect("change")
                .raw_bytes()
                .to_vec(),
            document_bomb(4096),
        ];
        let limits = ChunkLimits {
            change: 1 << 20,
            document: 8 << 20,
        };
        let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let (mut loaded, mut refused, mut size_refused, mut panics) = (0u64, 0u64, 0u64, 0u64);
        let mut kinds = std::collections::BTreeMap::<String, u64>::new();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let started = std::time::Instant::now();
        for _ in 0..n {
            let seed = &seeds[(next() % seeds.len() as u64) as usize];
            let mut data = parse_header(seed).expect("seed").1.to_vec();
            for _ in 0..1 + next() % 4 {
                let at = (next() % data.len().max(1) as u64) as usize;
                match next() % 3 {
                    0 if !data.is_empty() => data[at] = next() as u8,
                    1 => data.insert(at.min(data.len()), next() as u8),
                    _ if data.len() > 1 => {
                        data.remove(at.min(data.len() - 1));
                    }
                    _ => {}
                }
            }
            let bytes = chunk(seed[8], &data);
            if check_size(&bytes, &limits).is_err() {
                size_refused += 1;
                continue;
            }
            match std::panic::catch_unwind(|| load_chunks_within([bytes.clone()], &limits)) {
                Ok(Ok(_)) => loaded += 1,
                Ok(Err(_)) => refused += 1,
                Err(p) => {
                    panics += 1;
                    let what = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    // Numbers vary; the kind of panic is the text around them.
                    let kind: String = what.chars().filter(|c| !c.is_ascii_digit()).collect();
                    *kinds.entry(kind).or_default() += 1;
                }
            }
        }
        std::panic::set_hook(hook);
        eprintln!(
            "chunk mutations: {n} in {:?}: {size_refused} refused by check_size, {refused} \
             refused by Automerge, {loaded} loaded, {panics} panicked inside Automerge \
             by kind: {kinds:?}",
            started.elapsed()
        );
    }

    #[test]
    fn no_input_panics() {
        for n in 0..64u8 {
            let mut b = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 0];
            b.extend(std::iter::repeat_n(0xff, n as usize));
            let _ = document_actors(&b);
            let _ = chunk_kind(&b);
            let _ = check_size(&b, &ChunkLimits::default());
            let _ = check_size(&chunk(0, &b[9..]), &ChunkLimits::default());
        }
    }
}
