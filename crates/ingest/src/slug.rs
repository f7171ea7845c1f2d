//! URL slugs for releases: kebab-case from the title, unique across the archive. A release keeps
//! its slug for life; only new releases get one, and a collision falls back to adding the date.

use std::collections::HashSet;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use model::entity::release;

/// Longest slug kept from a title, cut at a word boundary; long titles make unwieldy URLs.
const MAX_BASE_LEN: usize = 80;

/// The kebab-case slug of a title, e.g. "China’s social security" → `chinas-social-security`.
pub fn base_slug(title: &str) -> String {
    // Apostrophes join words ("China’s" → "chinas") rather than splitting them.
    let joined: String = title
        .chars()
        .filter(|c| !matches!(c, '\'' | '\u{2019}' | '\u{2018}'))
        .collect();
    let mut slug = slug::slugify(joined);
    if slug.len() > MAX_BASE_LEN {
        let cut = slug[..=MAX_BASE_LEN].rfind('-').unwrap_or(MAX_BASE_LEN);
        slug.truncate(cut);
    }
    if slug.is_empty() {
        slug.push_str("release");
    }
    slug
}

/// Hands out slugs to new releases, avoiding those already stored and those given earlier in
/// the same run.
#[derive(Debug, Default)]
pub struct SlugAllocator {
    given: HashSet<String>,
}

impl SlugAllocator {
    /// One slug per `(title, published_on, id)`, in order: the title's slug if free, else with the
    /// date appended, else with the date and the start of the id.
    pub async fn allocate<C: ConnectionTrait>(
        &mut self,
        db: &C,
        releases: &[(&str, NaiveDate, Uuid)],
    ) -> Result<Vec<String>, DbErr> {
        if releases.is_empty() {
            return Ok(Vec::new());
        }
        let candidates: Vec<[String; 4]> = releases
            .iter()
            .map(|&(title, date, id)| {
                let base = base_slug(title);
                let simple = id.simple().to_string();
                [
                    base.clone(),
                    format!("{base}-{date}"),
                    format!("{base}-{date}-{}", &simple[..8]),
                    format!("{base}-{simple}"),
                ]
            })
            .collect();
        let stored: HashSet<String> = release::Entity::find()
            .select_only()
            .column(release::Column::Slug)
            .filter(release::Column::Slug.is_in(candidates.iter().flatten().cloned()))
            .into_tuple::<String>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let mut slugs = Vec::with_capacity(releases.len());
        for options in candidates {
            let last = options[3].clone();
            let slug = options
                .into_iter()
                .find(|s| !stored.contains(s) && !self.given.contains(s))
                .unwrap_or(last);
            self.given.insert(slug.clone());
            slugs.push(slug);
        }
        Ok(slugs)
    }
}

#[cfg(test)]
mod tests {
    use super::base_slug;

    #[test]
    fn titles_become_readable_kebab_case() {
        assert_eq!(
            base_slug("Launch of study on the digitalisation of China’s social security"),
            "launch-of-study-on-the-digitalisation-of-chinas-social-security"
        );
        assert_eq!(
            base_slug("BRICS commitment to jobs, social protection & social dialogue"),
            "brics-commitment-to-jobs-social-protection-social-dialogue"
        );
        assert_eq!(base_slug("“—”"), "release");
    }

    #[test]
    fn long_titles_are_cut_at_a_word_boundary() {
        let slug = base_slug(
            "Scope and potential of China-EU labour mobility and protection of migrant workers’ \
             rights explored among Chinese policy makers and practitioners at ILO workshop",
        );
        assert!(slug.len() <= 80, "{slug}");
        assert!(!slug.ends_with('-'));
        assert!(slug.starts_with("scope-and-potential-of-china-eu-labour-mobility"));
    }
}
