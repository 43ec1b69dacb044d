//! The key of a keyspace entry, behind one pointer.
//!
//! A `Box<[u8]>` is a pointer and a length, 16 bytes in every entry. Here
//! the length sits in the allocation's first byte (nine bytes for keys of
//! 255 bytes and more), so the entry holds 8 bytes and shrinks from 56 to
//! 48 bytes, one allocator size class less (64 to 48 bytes with mimalloc):
//! 16 bytes per key, which under `maxmemory` is more keys kept in the same
//! room. The header byte usually fits in the key's own size class (a
//! 9-byte key takes 16 bytes either way).
#![allow(unsafe_code)]

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

/// Header byte of a key of 255 bytes or more: a u64 length follows.
const LONG: u8 = 0xFF;

/// The empty key: a header saying 0, not allocated.
static EMPTY: u8 = 0;

/// A key's bytes, owned, behind one pointer.
pub struct EntryKey(NonNull<u8>);

// SAFETY: an EntryKey owns its allocation alone (as Box<[u8]> does) and
// never changes it after creation; the static empty key is never written.
unsafe impl Send for EntryKey {}
// SAFETY: as above: shared access only reads.
unsafe impl Sync for EntryKey {}

impl EntryKey {
    /// A copy of `bytes`.
    pub fn new(bytes: &[u8]) -> EntryKey {
        if bytes.is_empty() {
            return EntryKey(NonNull::from(&EMPTY));
        }
        let head = header_len(bytes.len());
        let layout = Layout::from_size_align(head + bytes.len(), 1).expect("a key's size fits");
        // SAFETY: the layout has a non-zero size; the writes stay inside
        // the `head + len` bytes just allocated.
        unsafe {
            let p = alloc(layout);
            let Some(p) = NonNull::new(p) else {
                handle_alloc_error(layout)
            };
            if head == 1 {
                p.as_ptr().write(bytes.len() as u8);
            } else {
                p.as_ptr().write(LONG);
                p.as_ptr()
                    .add(1)
                    .cast::<u64>()
                    .write_unaligned(bytes.len() as u64);
            }
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.as_ptr().add(head), bytes.len());
            EntryKey(p)
        }
    }

    /// The header's length and the key's.
    #[inline]
    fn parts(&self) -> (usize, usize) {
        // SAFETY: the pointer is the static empty key or an allocation
        // written by `new`, whose header is complete.
        unsafe {
            let p = self.0.as_ptr();
            match *p {
                LONG => (9, p.add(1).cast::<u64>().read_unaligned() as usize),
                n => (1, n as usize),
            }
        }
    }

    /// The key's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        let (head, len) = self.parts();
        // SAFETY: `new` wrote `len` bytes after the header.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(head), len) }
    }

    /// The bytes the key's allocation takes (its size before the
    /// allocator rounds it up; 0 for the empty key).
    pub fn alloc_size(&self) -> usize {
        let (head, len) = self.parts();
        if len == 0 {
            0
        } else {
            head + len
        }
    }

    /// The key as an owned `Box<[u8]>`.
    pub fn to_boxed(&self) -> Box<[u8]> {
        self.as_bytes().into()
    }
}

#[inline]
fn header_len(len: usize) -> usize {
    if len < LONG as usize {
        1
    } else {
        9
    }
}

impl Drop for EntryKey {
    fn drop(&mut self) {
        let (head, len) = self.parts();
        if len == 0 {
            return;
        }
        // SAFETY: a non-empty key was allocated by `new` with this layout.
        unsafe {
            dealloc(
                self.0.as_ptr(),
                Layout::from_size_align_unchecked(head + len, 1),
            )
        }
    }
}

impl Clone for EntryKey {
    fn clone(&self) -> Self {
        EntryKey::new(self.as_bytes())
    }
}

impl std::ops::Deref for EntryKey {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for EntryKey {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::borrow::Borrow<[u8]> for EntryKey {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for EntryKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for EntryKey {}

impl std::hash::Hash for EntryKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl std::fmt::Debug for EntryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl From<&[u8]> for EntryKey {
    fn from(b: &[u8]) -> Self {
        EntryKey::new(b)
    }
}

impl From<Box<[u8]>> for EntryKey {
    fn from(b: Box<[u8]>) -> Self {
        EntryKey::new(&b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn entry_is_48_bytes() {
        assert_eq!(std::mem::size_of::<EntryKey>(), 8);
        assert_eq!(std::mem::size_of::<super::super::Entry>(), 48);
    }

    #[test]
    fn lengths_around_the_long_header() {
        for n in [0usize, 1, 9, 254, 255, 256, 70_000] {
            let b: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let k = EntryKey::new(&b);
            assert_eq!(&*k, &b[..]);
            assert_eq!(&*k.clone(), &b[..]);
            assert_eq!(k.to_boxed(), b.clone().into_boxed_slice());
        }
    }

    proptest! {
        #[test]
        fn keeps_the_bytes(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let k = EntryKey::from(&b[..]);
            prop_assert_eq!(&*k, &b[..]);
            prop_assert_eq!(k.clone(), k);
        }
    }
}
