//! Quicklist: a list stored as a sequence of nodes.
//!
//! * RDB type 14 (Redis 3.2–6.2): `<node count>` then each node is a string
//!   holding a ziplist.
//! * RDB type 18 (Redis 7.0+): `<node count>` then each node is
//!   `<container>` (1 = plain: the string is one element, 2 = packed: the
//!   string is a listpack) and a string.
//!
//! Node strings may be LZF-compressed like any RDB string. The reader
//! decodes nodes itself; this module holds the writer's rule for cutting a
//! list into packed nodes, the same as Redis's default
//! `list-max-listpack-size -2` (8 KB per node) so that files written by
//! relica look like Redis's and load into the same shape.

use super::listpack;

/// A node may grow while its listpack stays within this many bytes
/// (`list-max-listpack-size -2`).
pub(crate) const NODE_MAX_BYTES: usize = 8192;
/// Redis's per-element overestimate when deciding whether an element fits.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Elements at least this large get a node of their own in plain form, as
/// Redis's default `packed_threshold` (1 GB).
pub(crate) const PACKED_THRESHOLD: usize = 1 << 30;

/// Where the next element goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Append to the current packed node.
    Append,
    /// Close the current node (if any) and start a new packed node with it.
    NewPacked,
    /// Close the current node (if any) and write a plain node for it.
    Plain,
}

/// Tracks the size of the node being filled; the same planner runs in the
/// writer's counting pass and in its writing pass, so both agree.
#[derive(Debug, Default)]
pub(crate) struct Planner {
    /// Listpack bytes of the open node (0 = no open node).
    node_bytes: usize,
}

impl Planner {
    pub(crate) fn place(&mut self, ele: &[u8]) -> Place {
        if ele.len() >= PACKED_THRESHOLD {
            self.node_bytes = 0;
            return Place::Plain;
        }
        let size = listpack::entry_size(ele);
        if self.node_bytes != 0
            && self.node_bytes + ele.len() + SIZE_ESTIMATE_OVERHEAD <= NODE_MAX_BYTES
        {
            self.node_bytes += size;
            Place::Append
        } else {
            // Header (6) + end byte (1) + the element.
            self.node_bytes = 7 + size;
            Place::NewPacked
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_8k() {
        let mut p = Planner::default();
        let ele = [b'x'; 100];
        let mut nodes = 0;
        let mut per_node = 0;
        for _ in 0..1000 {
            match p.place(&ele) {
                Place::NewPacked => {
                    nodes += 1;
                    per_node = 1;
                }
                Place::Append => per_node += 1,
                Place::Plain => unreachable!(),
            }
            assert!(7 + per_node * 103 <= NODE_MAX_BYTES);
        }
        assert_eq!(nodes, 1000usize.div_ceil(79));
    }

    #[test]
    fn big_element_gets_own_node() {
        let mut p = Planner::default();
        assert_eq!(p.place(b"a"), Place::NewPacked);
        assert_eq!(p.place(&[0u8; 9000]), Place::NewPacked);
        assert_eq!(p.place(b"b"), Place::NewPacked);
        assert_eq!(p.place(b"c"), Place::Append);
    }
}
