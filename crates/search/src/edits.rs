//! How far a misspelt word may be from the archive's words: the edit distance of the typo rule.

/// Edits allowed between a word that occurs nowhere in the archive and the archive's words it
/// is corrected to: none under 5 letters, one from 5 letters, two from 9. An edit inserts,
/// deletes or substitutes a letter, or swaps two adjacent ones.
pub fn max_edits(word: &str) -> u8 {
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// The edit distance of [`max_edits`] between two words, in characters (the optimal string
/// alignment distance: insertions, deletions, substitutions and adjacent transpositions).
/// The index finds the words within it with a Levenshtein automaton; this direct computation
/// is what tests compare it against.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    for (j, cell) in rows.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i * width] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[(i - 1) * width + j] + 1)
                .min(rows[i * width + j - 1] + 1)
                .min(rows[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[(i - 2) * width + j - 2] + 1);
            }
            rows[i * width + j] = best;
        }
    }
    rows[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_examples_are_one_edit_away() {
        assert_eq!(edit_distance("aprenticeship", "apprenticeship"), 1);
        assert_eq!(edit_distance("worksohp", "workshop"), 1);
        assert_eq!(edit_distance("mongloia", "mongolia"), 1);
        assert_eq!(edit_distance("workshop", "workshop"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("ab", "ba"), 1);
    }

    #[test]
    fn allowance_grows_with_length() {
        assert_eq!(max_edits("labr"), 0);
        assert_eq!(max_edits("labor"), 1);
        assert_eq!(max_edits("employmen"), 2);
        assert_eq!(max_edits("就业促进就业促进"), 1);
    }
}
