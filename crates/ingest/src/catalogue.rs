//! Catalogue of offices and programmes (`seeds/catalogue.toml`): what each one is, the
//! phrases that tag a release with it, and which office publishes each listing file.
//! Loaded with serde, then validated so that a bad edit fails with the file, line or slug.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use model::TagKind;

/// Offices, programmes and the publishers of listing files, as read from the catalogue file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    #[serde(default)]
    pub offices: Vec<OfficeEntry>,
    #[serde(default)]
    pub programmes: Vec<ProgrammeEntry>,
    pub listings: ListingOffices,
}

/// An ILO office (`[[offices]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeEntry {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub acronym: Option<String>,
    pub description: String,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A programme or project (`[[programmes]]`), run by one or more offices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeEntry {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub acronym: Option<String>,
    pub description: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Slugs of the offices that run the programme.
    pub offices: Vec<String>,
}

/// `[listings]`: which office publishes which listing file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListingOffices {
    /// Publisher of any listing file not named in `files`.
    pub default_office: String,
    /// `[[listings.file]]` entries.
    #[serde(rename = "file", default)]
    pub files: Vec<ListingFile>,
}

/// `[[listings.file]]`: a listing file (matched by file name) and its publishing office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListingFile {
    pub name: String,
    pub office: String,
}

/// Why a catalogue could not be loaded. Every message starts with the catalogue's path.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{}: cannot read catalogue", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax error, or a field serde rejected (unknown, missing, wrong type).
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        /// 1-based.
        line: usize,
        /// 1-based, in characters.
        column: usize,
        message: String,
    },
    /// A TOML error that carried no position.
    #[error("{}: {message}", path.display())]
    Toml { path: PathBuf, message: String },
    #[error(
        "{}: {kind} \"{slug}\": slug is not kebab-case (expected lowercase letters and digits separated by single hyphens)",
        path.display()
    )]
    InvalidSlug {
        path: PathBuf,
        kind: TagKind,
        slug: String,
    },
    #[error("{}: {kind} \"{slug}\": slug is already used by an earlier {first}", path.display())]
    DuplicateSlug {
        path: PathBuf,
        kind: TagKind,
        slug: String,
        first: TagKind,
    },
    #[error("{}: {kind} \"{slug}\": {field} is empty", path.display())]
    EmptyAlias {
        path: PathBuf,
        kind: TagKind,
        slug: String,
        /// `aliases[i]` (0-based) or `acronym`.
        field: String,
    },
    #[error(
        "{}: programme \"{programme}\": office \"{office}\" is not defined in [[offices]]",
        path.display()
    )]
    UnknownProgrammeOffice {
        path: PathBuf,
        programme: String,
        office: String,
    },
    #[error(
        "{}: [[listings.file]] \"{file}\": office \"{office}\" is not defined in [[offices]]",
        path.display()
    )]
    UnknownListingOffice {
        path: PathBuf,
        file: String,
        office: String,
    },
    #[error("{}: [[listings.file]] \"{file}\" is listed more than once", path.display())]
    DuplicateListingFile { path: PathBuf, file: String },
    #[error(
        "{}: [listings]: default_office \"{office}\" is not defined in [[offices]]",
        path.display()
    )]
    UnknownDefaultOffice { path: PathBuf, office: String },
}

impl Catalogue {
    /// Reads, parses and validates the catalogue at `path`.
    pub fn load(path: &Path) -> Result<Catalogue, CatalogueError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Catalogue::from_toml_str(&text, path)
    }

    /// Parses and validates catalogue text; `origin` is only used in error messages.
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<Catalogue, CatalogueError> {
        let catalogue: Catalogue =
            toml::from_str(text).map_err(|err| toml_error(text, origin, &err))?;
        catalogue.validate(origin)?;
        Ok(catalogue)
    }

    /// The slug of the office that publishes `listing_file`, matched by file name against
    /// `[[listings.file]]`, else `[listings] default_office`.
    pub fn publisher_of(&self, listing_file: &Path) -> &str {
        listing_file
            .file_name()
            .and_then(|name| {
                self.listings
                    .files
                    .iter()
                    .find(|file| std::ffi::OsStr::new(&file.name) == name)
            })
            .map_or(&self.listings.default_office, |file| &file.office)
    }

    /// The office with this slug.
    pub fn office(&self, slug: &str) -> Option<&OfficeEntry> {
        self.offices.iter().find(|office| office.slug == slug)
    }

    /// The programme with this slug.
    pub fn programme(&self, slug: &str) -> Option<&ProgrammeEntry> {
        self.programmes
            .iter()
            .find(|programme| programme.slug == slug)
    }

    fn validate(&self, path: &Path) -> Result<(), CatalogueError> {
        let path_buf = || path.to_path_buf();

        let entries = self
            .offices
            .iter()
            .map(|o| (TagKind::Office, &o.slug, &o.acronym, &o.aliases))
            .chain(
                self.programmes
                    .iter()
                    .map(|p| (TagKind::Programme, &p.slug, &p.acronym, &p.aliases)),
            );
        let mut seen: HashMap<&str, TagKind> = HashMap::new();
        for (kind, slug, acronym, aliases) in entries {
            if !is_kebab_case(slug) {
                return Err(CatalogueError::InvalidSlug {
                    path: path_buf(),
                    kind,
                    slug: slug.clone(),
                });
            }
            if let Some(&first) = seen.get(slug.as_str()) {
                return Err(CatalogueError::DuplicateSlug {
                    path: path_buf(),
                    kind,
                    slug: slug.clone(),
                    first,
                });
            }
            seen.insert(slug, kind);

            let empty_field = acronym
                .as_deref()
                .filter(|a| a.trim().is_empty())
                .map(|_| "acronym".to_owned())
                .or_else(|| {
                    aliases
                        .iter()
                        .position(|alias| alias.trim().is_empty())
                        .map(|i| format!("aliases[{i}]"))
                });
            if let Some(field) = empty_field {
                return Err(CatalogueError::EmptyAlias {
                    path: path_buf(),
                    kind,
                    slug: slug.clone(),
                    field,
                });
            }
        }

        let is_office = |slug: &str| seen.get(slug) == Some(&TagKind::Office);
        for programme in &self.programmes {
            if let Some(office) = programme.offices.iter().find(|o| !is_office(o)) {
                return Err(CatalogueError::UnknownProgrammeOffice {
                    path: path_buf(),
                    programme: programme.slug.clone(),
                    office: office.clone(),
                });
            }
        }
        let mut files_seen = std::collections::HashSet::new();
        for file in &self.listings.files {
            if !files_seen.insert(file.name.as_str()) {
                return Err(CatalogueError::DuplicateListingFile {
                    path: path_buf(),
                    file: file.name.clone(),
                });
            }
            if !is_office(&file.office) {
                return Err(CatalogueError::UnknownListingOffice {
                    path: path_buf(),
                    file: file.name.clone(),
                    office: file.office.clone(),
                });
            }
        }
        if !is_office(&self.listings.default_office) {
            return Err(CatalogueError::UnknownDefaultOffice {
                path: path_buf(),
                office: self.listings.default_office.clone(),
            });
        }
        Ok(())
    }
}

/// `^[a-z0-9]+(-[a-z0-9]+)*$`, without a regex.
fn is_kebab_case(slug: &str) -> bool {
    !slug.is_empty()
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Turns toml's byte span into a 1-based line and (character) column.
fn toml_error(text: &str, path: &Path, err: &toml::de::Error) -> CatalogueError {
    let message = err.message().trim_end().to_owned();
    match err.span() {
        Some(span) => {
            let start = floor_char_boundary(text, span.start);
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before[line_start..].chars().count() + 1;
            CatalogueError::Syntax {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        }
        None => CatalogueError::Toml {
            path: path.to_path_buf(),
            message,
        },
    }
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "seeds/catalogue.toml";

    const VALID: &str = r#"
[listings]
default_office = "beijing"

[[listings.file]]
name = "a.txt"
office = "geneva"

[[offices]]
slug = "beijing"
name = "ILO Country Office for China and Mongolia"
description = "Beijing."
city = "Beijing"
countries = ["China", "Mongolia"]
aliases = ["ILO Country Office for China and Mongolia"]

[[offices]]
slug = "geneva"
name = "ILO Headquarters"
description = "Geneva."
aliases = ["Guy Ryder"]

[[programmes]]
slug = "score"
name = "Sustaining Competitive and Responsible Enterprises"
acronym = "SCORE"
description = "SMEs."
aliases = ["Sustaining Competitive and Responsible Enterprises"]
offices = ["beijing"]
"#;

    fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        Catalogue::from_toml_str(text, Path::new(ORIGIN))
    }

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("catalogue unexpectedly valid:\n{text}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn valid_catalogue_parses() {
        let catalogue = parse(VALID).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(catalogue.offices.len(), 2);
        assert_eq!(catalogue.programmes[0].acronym.as_deref(), Some("SCORE"));
        assert_eq!(catalogue.offices[1].city, None);
        assert!(catalogue.offices[1].countries.is_empty());
        assert_eq!(
            catalogue.office("geneva").map(|o| o.name.as_str()),
            Some("ILO Headquarters")
        );
        assert!(catalogue.programme("nowhere").is_none());
    }

    #[test]
    fn publisher_by_file_name_else_default() {
        let catalogue = parse(VALID).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(catalogue.publisher_of(Path::new("/x/y/a.txt")), "geneva");
        assert_eq!(catalogue.publisher_of(Path::new("a.txt")), "geneva");
        assert_eq!(catalogue.publisher_of(Path::new("/x/b.txt")), "beijing");
        assert_eq!(catalogue.publisher_of(Path::new("/")), "beijing");
    }

    #[test]
    fn seed_catalogue_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/catalogue.toml");
        let catalogue = Catalogue::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let office_slugs: Vec<&str> = catalogue.offices.iter().map(|o| o.slug.as_str()).collect();
        assert_eq!(office_slugs, ["beijing", "geneva", "bangkok", "lima"]);
        assert_eq!(
            catalogue.publisher_of(Path::new("ilo-beijing-press-releases-2020-2021.txt")),
            "beijing"
        );
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let text = VALID.replace(r#"city = "Beijing""#, r#"city = "Beijing"#);
        let line = text
            .lines()
            .position(|l| l.starts_with("city = \"Beijing"))
            .map(|i| i + 1)
            .unwrap_or_default();
        let message = error(&text);
        assert!(
            message.starts_with(&format!("{ORIGIN}:{line}:")),
            "{message}"
        );
    }

    #[test]
    fn unknown_field_names_its_line() {
        let text = VALID.replace("city = \"Beijing\"", "town = \"Beijing\"");
        let line = text
            .lines()
            .position(|l| l.starts_with("town = "))
            .map(|i| i + 1)
            .unwrap_or_default();
        let message = error(&text);
        assert!(
            message.starts_with(&format!("{ORIGIN}:{line}:1: ")),
            "{message}"
        );
        assert!(message.contains("town"), "{message}");
    }

    #[test]
    fn missing_field_is_reported() {
        let text = VALID.replace("description = \"SMEs.\"\n", "");
        let message = error(&text);
        assert!(message.starts_with(ORIGIN), "{message}");
        assert!(message.contains("description"), "{message}");
    }

    #[test]
    fn unreadable_file() {
        let err = Catalogue::load(Path::new("/nonexistent/catalogue.toml"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("/nonexistent/catalogue.toml: cannot read"),
            "{err}"
        );
    }

    #[test]
    fn slug_not_kebab_case() {
        for bad in [
            "Score", "score_1", "-score", "score-", "sco--re", "", "scöre",
        ] {
            let text = VALID.replace(r#"slug = "score""#, &format!("slug = \"{bad}\""));
            assert_eq!(
                error(&text),
                format!(
                    "{ORIGIN}: programme \"{bad}\": slug is not kebab-case \
                     (expected lowercase letters and digits separated by single hyphens)"
                )
            );
        }
        for good in ["score", "g20-entrepreneurship", "a-1-b"] {
            assert!(is_kebab_case(good), "{good}");
        }
    }

    #[test]
    fn duplicate_slug() {
        let text = VALID.replace(r#"slug = "geneva""#, r#"slug = "beijing""#);
        assert_eq!(
            error(&text),
            format!("{ORIGIN}: office \"beijing\": slug is already used by an earlier office")
        );
        let text = VALID.replace(r#"slug = "score""#, r#"slug = "geneva""#);
        assert_eq!(
            error(&text),
            format!("{ORIGIN}: programme \"geneva\": slug is already used by an earlier office")
        );
    }

    #[test]
    fn empty_alias() {
        let text = VALID.replace(
            r#"aliases = ["Guy Ryder"]"#,
            r#"aliases = ["Guy Ryder", "  "]"#,
        );
        assert_eq!(
            error(&text),
            format!("{ORIGIN}: office \"geneva\": aliases[1] is empty")
        );
        let text = VALID.replace(r#"acronym = "SCORE""#, r#"acronym = """#);
        assert_eq!(
            error(&text),
            format!("{ORIGIN}: programme \"score\": acronym is empty")
        );
    }

    #[test]
    fn programme_office_must_exist() {
        let text = VALID.replace(
            r#"offices = ["beijing"]"#,
            r#"offices = ["beijing", "nowhere"]"#,
        );
        assert_eq!(
            error(&text),
            format!(
                "{ORIGIN}: programme \"score\": office \"nowhere\" is not defined in [[offices]]"
            )
        );
        // A programme slug is not an office.
        let text = VALID.replace(r#"offices = ["beijing"]"#, r#"offices = ["score"]"#);
        assert!(error(&text).contains("office \"score\" is not defined"));
    }

    #[test]
    fn listing_office_must_exist() {
        let text = VALID.replace(r#"office = "geneva""#, r#"office = "nowhere""#);
        assert_eq!(
            error(&text),
            format!(
                "{ORIGIN}: [[listings.file]] \"a.txt\": office \"nowhere\" is not defined in [[offices]]"
            )
        );
    }

    #[test]
    fn listing_file_listed_once() {
        let text = VALID.replace(
            "[[offices]]\nslug = \"beijing\"",
            "[[listings.file]]\nname = \"a.txt\"\noffice = \"beijing\"\n\n[[offices]]\nslug = \"beijing\"",
        );
        assert_eq!(
            error(&text),
            format!("{ORIGIN}: [[listings.file]] \"a.txt\" is listed more than once")
        );
    }

    #[test]
    fn default_office_must_exist() {
        let text = VALID.replace(
            r#"default_office = "beijing""#,
            r#"default_office = "nowhere""#,
        );
        assert_eq!(
            error(&text),
            format!(
                "{ORIGIN}: [listings]: default_office \"nowhere\" is not defined in [[offices]]"
            )
        );
        let text = VALID.replace("default_office = \"beijing\"\n", "");
        assert!(error(&text).contains("default_office"));
    }
}
