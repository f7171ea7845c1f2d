//! The index's schema: which fields a release becomes, and how their text is cut into terms.
//!
//! - `text`: the stemmed words of the title, three times, and of the summary, with frequencies:
//!   what a word is matched and ranked on (BM25F: a title word counts three times, toward the
//!   word's frequency and the release's length). One field, so that a word is one list of
//!   postings rather than the union of two.
//! - `title`, `summary`: the stemmed words with positions, for phrases, which must stand within
//!   one of them. Stop words are kept, so that a phrase's words stand where they stood.
//! - `words`: every word as written (lower case), document ids only: the vocabulary that the
//!   word being typed is completed from and a misspelt word is corrected against.
//! - `id`: the release id as text, for replacing or deleting a release's document.
//! - `day`, `id_hi`, `id_lo`, `programme`, `office`: fast fields (columns) read once per
//!   segment into `segment_table`, from which pages, counts and facets are computed.

use tantivy::Index;
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, NumericOptions, STRING, Schema, TextFieldIndexing,
    TextOptions,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};

/// Tokenizer of `title` and `summary`: runs of letters and digits, lower case, stemmed.
const STEMMED: &str = "pressroom_stemmed";
/// Tokenizer of `words`: runs of letters and digits, lower case.
const PLAIN: &str = "pressroom_plain";

/// How many times a title's words count in `text` (BM25F's field weight).
pub const TITLE_WEIGHT: usize = 3;

/// Longest word indexed, in bytes; a longer one is left out of the index (and matches nothing).
pub const MAX_WORD_BYTES: usize = 200;

/// The fields of the schema, by role.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub text: Field,
    pub title: Field,
    pub summary: Field,
    pub words: Field,
    pub day: Field,
    pub id_hi: Field,
    pub id_lo: Field,
    pub programme: Field,
    pub office: Field,
}

pub const DAY: &str = "day";
pub const ID_HI: &str = "id_hi";
pub const ID_LO: &str = "id_lo";
pub const PROGRAMME: &str = "programme";
pub const OFFICE: &str = "office";

impl Fields {
    /// The schema of a new index and its fields.
    pub fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let ranked = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(STEMMED)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let phrases = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(STEMMED)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions)
                .set_fieldnorms(false),
        );
        let words = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(PLAIN)
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        );
        let column = NumericOptions::default().set_fast();
        let fields = Fields {
            id: builder.add_text_field("id", STRING),
            text: builder.add_text_field("text", ranked),
            title: builder.add_text_field("title", phrases.clone()),
            summary: builder.add_text_field("summary", phrases),
            words: builder.add_text_field("words", words),
            day: builder.add_u64_field(DAY, column.clone()),
            id_hi: builder.add_u64_field(ID_HI, column.clone()),
            id_lo: builder.add_u64_field(ID_LO, column.clone()),
            programme: builder.add_u64_field(PROGRAMME, column.clone() | INDEXED),
            office: builder.add_u64_field(OFFICE, column | INDEXED),
        };
        (builder.build(), fields)
    }

    /// The fields of an opened index, by name; `None` when its schema is not this one.
    pub fn of(index: &Index) -> Option<Fields> {
        let (expected, _) = Fields::schema();
        let schema = index.schema();
        if schema != expected {
            return None;
        }
        let field = |name: &str| schema.get_field(name).ok();
        Some(Fields {
            id: field("id")?,
            text: field("text")?,
            title: field("title")?,
            summary: field("summary")?,
            words: field("words")?,
            day: field(DAY)?,
            id_hi: field(ID_HI)?,
            id_lo: field(ID_LO)?,
            programme: field(PROGRAMME)?,
            office: field(OFFICE)?,
        })
    }
}

/// Registers the tokenizers the schema names; tantivy does not store them with the index.
pub fn register_tokenizers(index: &Index) {
    let stemmed = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES + 1))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build();
    let plain = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES + 1))
        .filter(LowerCaser)
        .build();
    index.tokenizers().register(STEMMED, stemmed);
    index.tokenizers().register(PLAIN, plain);
}
