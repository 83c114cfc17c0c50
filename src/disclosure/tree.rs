//! Secondary suppression over a unit tree.
//!
//! Each unit with children gives one additive relation, its *group*: the
//! parent's count is the sum of its children's. A group in which exactly one
//! member is withheld gives that member away by subtraction (the parent less
//! the published children, or the parent less the other children). So, until
//! no group has exactly one withheld member, one more member of such a group
//! is withheld: the smallest published sibling (non-zero counts first, then
//! configuration order), or, when the withheld member has no sibling, the
//! parent; when the withheld member is the parent, its smallest published
//! child.
//!
//! Why groups are enough: every unit is in at most two groups (as a child of
//! its parent, and as the parent of its own children), so the groups and the
//! withheld units form a forest. In a component where every group holds 0 or
//! at least 2 withheld members, each withheld unit lies on a path between two
//! withheld units that are each in one group only (a root or a leaf), and
//! moving a count along that path keeps every relation true: no combination
//! of the published relations pins any single withheld count.

use super::DisclosureError;

/// One additive relation: `parent` = sum of `children` (indices into the
/// cells of one table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The parent cell.
    pub parent: usize,
    /// The children's cells, in configuration order; never empty.
    pub children: Vec<usize>,
}

/// The groups of a tree given each node's parent (`None` for a root).
pub fn groups_of(parents: &[Option<usize>]) -> Result<Vec<Group>, DisclosureError> {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); parents.len()];
    for (node, parent) in parents.iter().enumerate() {
        if let Some(parent) = *parent {
            if parent >= parents.len() || parent == node {
                return Err(DisclosureError::Tree(format!(
                    "node {node} has parent {parent}, not another node of {}",
                    parents.len()
                )));
            }
            children[parent].push(node);
        }
    }
    Ok(children
        .into_iter()
        .enumerate()
        .filter(|(_, children)| !children.is_empty())
        .map(|(parent, children)| Group { parent, children })
        .collect())
}

/// Withholds more cells until no group has exactly one withheld member;
/// returns how many cells it withheld. `values` are the exact counts (they
/// choose which sibling to withhold), `withheld` the cells withheld so far.
pub fn protect(
    groups: &[Group],
    values: &[i64],
    withheld: &mut [bool],
) -> Result<usize, DisclosureError> {
    if values.len() != withheld.len() {
        return Err(DisclosureError::Tree(format!(
            "{} values for {} cells",
            values.len(),
            withheld.len()
        )));
    }
    for group in groups {
        if group.children.is_empty() {
            return Err(DisclosureError::Tree(format!(
                "the group of cell {} has no children",
                group.parent
            )));
        }
        if let Some(bad) = std::iter::once(&group.parent)
            .chain(&group.children)
            .find(|cell| **cell >= values.len())
        {
            return Err(DisclosureError::Tree(format!(
                "cell {bad} is not one of the {} cells",
                values.len()
            )));
        }
    }
    let mut added = 0;
    loop {
        let mut changed = false;
        for group in groups {
            if let Some(cell) = partner(group, values, withheld) {
                withheld[cell] = true;
                added += 1;
                changed = true;
            }
        }
        if !changed {
            return Ok(added);
        }
    }
}

/// The cell to withhold in `group`, if exactly one of its members is withheld.
fn partner(group: &Group, values: &[i64], withheld: &[bool]) -> Option<usize> {
    let members = std::iter::once(group.parent).chain(group.children.iter().copied());
    let mut lone = None;
    for member in members {
        if withheld[member] {
            if lone.is_some() {
                return None;
            }
            lone = Some(member);
        }
    }
    let lone = lone?;
    let smallest = group
        .children
        .iter()
        .copied()
        .filter(|child| *child != lone)
        .min_by_key(|child| (values[*child] == 0, values[*child], *child));
    if lone == group.parent {
        smallest
    } else {
        smallest.or(Some(group.parent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// county(0) -> area a(1), area b(2); a -> t1(3), t2(4), t3(5); b -> t4(6).
    fn tree() -> Vec<Group> {
        groups_of(&[None, Some(0), Some(0), Some(1), Some(1), Some(1), Some(2)]).unwrap()
    }

    #[test]
    fn groups_follow_the_parents() {
        assert_eq!(
            tree(),
            vec![
                Group {
                    parent: 0,
                    children: vec![1, 2]
                },
                Group {
                    parent: 1,
                    children: vec![3, 4, 5]
                },
                Group {
                    parent: 2,
                    children: vec![6]
                },
            ]
        );
        assert!(groups_of(&[Some(3)]).is_err());
        assert!(groups_of(&[Some(0)]).is_err());
    }

    #[test]
    fn a_lone_withheld_team_takes_its_smallest_non_zero_sibling() {
        //            county 60 = a 40 + b 20; a = 3 + 0 + 37 (t1 primary); b = 20.
        let values = [60, 40, 20, 3, 0, 37, 20];
        let mut withheld = [false, false, false, true, false, false, false];
        assert_eq!(protect(&tree(), &values, &mut withheld), Ok(1));
        // t2 is 0 (smaller) but a zero gives less cover: t3 is withheld.
        assert_eq!(withheld, [false, false, false, true, false, true, false]);
    }

    #[test]
    fn an_only_child_and_its_parent_go_together_up_the_tree() {
        // t4 (3) is b's only team: b is withheld, then county's group {county, a, b}
        // has one withheld member, so a (the only other area) goes too.
        // Then a's group has one withheld member (a): its smallest team, t2 (5).
        let values = [60, 40, 3, 10, 5, 25, 3];
        let mut withheld = [false, false, false, false, false, false, true];
        assert_eq!(protect(&tree(), &values, &mut withheld), Ok(3));
        assert_eq!(withheld, [false, true, true, false, true, false, true]);
    }

    #[test]
    fn a_withheld_parent_takes_a_child() {
        let values = [60, 40, 20, 10, 5, 25, 20];
        let mut withheld = [true, false, false, false, false, false, false];
        assert_eq!(protect(&tree(), &values, &mut withheld), Ok(2));
        // county -> b (20 is smaller than 40), b -> t4 (its only child); then
        // every group holds none or two withheld members.
        assert_eq!(withheld, [true, false, true, false, false, false, true]);
    }

    #[test]
    fn nothing_withheld_stays_so_and_bad_input_is_an_error() {
        let values = [1, 1, 1, 1, 1, 1, 1];
        let mut withheld = [false; 7];
        assert_eq!(protect(&tree(), &values, &mut withheld), Ok(0));
        assert_eq!(withheld, [false; 7]);
        let mut short = [false; 3];
        assert!(protect(&tree(), &values, &mut short).is_err());
    }
}
