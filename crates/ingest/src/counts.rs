//! The precomputed release counts that `releaseFacets` reads (`release_day_count`,
//! `release_tag_day_count`, `release_pair_day_count`), recomputed in full from the release
//! and tag tables. `load` calls [`refresh_counts`] inside its transaction, under its lock, so
//! readers see the counts change with the releases, never apart from them.

use sea_orm::sea_query::{Expr, ExprTrait, InsertStatement, IntoIden, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use model::TagKind;
use model::entity::{
    release, release_day_count, release_office, release_pair_day_count, release_programme,
    release_tag_day_count,
};

/// Replaces the three count tables' rows with counts of what `release`, `release_programme`
/// and `release_office` hold now: one `DELETE` and one `INSERT … SELECT … GROUP BY` each.
pub async fn refresh_counts(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    release_day_count::Entity::delete_many().exec(txn).await?;
    release_tag_day_count::Entity::delete_many()
        .exec(txn)
        .await?;
    release_pair_day_count::Entity::delete_many()
        .exec(txn)
        .await?;

    let mut days = Query::select();
    days.column((release::Entity, release::Column::PublishedOn))
        .expr(Expr::col((release::Entity, release::Column::Id)).count())
        .from(release::Entity)
        .group_by_col((release::Entity, release::Column::PublishedOn));
    let columns = [
        release_day_count::Column::PublishedOn,
        release_day_count::Column::Releases,
    ];
    txn.execute(&insert(release_day_count::Entity, columns, days)?)
        .await?;

    let tag_columns = [
        release_tag_day_count::Column::Kind,
        release_tag_day_count::Column::TagId,
        release_tag_day_count::Column::PublishedOn,
        release_tag_day_count::Column::Releases,
    ];
    let mut programmes = Query::select();
    programmes
        .expr(Expr::val(TagKind::Programme.code()))
        .column(release_programme::Column::ProgrammeId)
        .column(release_programme::Column::PublishedOn)
        .expr(Expr::col(release_programme::Column::ReleaseId).count())
        .from(release_programme::Entity)
        .group_by_col(release_programme::Column::ProgrammeId)
        .group_by_col(release_programme::Column::PublishedOn);
    txn.execute(&insert(
        release_tag_day_count::Entity,
        tag_columns,
        programmes,
    )?)
    .await?;
    let mut offices = Query::select();
    offices
        .expr(Expr::val(TagKind::Office.code()))
        .column(release_office::Column::OfficeId)
        .column(release_office::Column::PublishedOn)
        .expr(Expr::col(release_office::Column::ReleaseId).count())
        .from(release_office::Entity)
        .group_by_col(release_office::Column::OfficeId)
        .group_by_col(release_office::Column::PublishedOn);
    txn.execute(&insert(
        release_tag_day_count::Entity,
        tag_columns,
        offices,
    )?)
    .await?;

    // Releases tagged with both: the two tag tables joined on the release.
    let mut pairs = Query::select();
    pairs
        .column((
            release_programme::Entity,
            release_programme::Column::ProgrammeId,
        ))
        .column((release_office::Entity, release_office::Column::OfficeId))
        .column((
            release_programme::Entity,
            release_programme::Column::PublishedOn,
        ))
        .expr(
            Expr::col((
                release_programme::Entity,
                release_programme::Column::ReleaseId,
            ))
            .count(),
        )
        .from(release_programme::Entity)
        .inner_join(
            release_office::Entity,
            Expr::col((release_office::Entity, release_office::Column::ReleaseId)).equals((
                release_programme::Entity,
                release_programme::Column::ReleaseId,
            )),
        )
        .group_by_col((
            release_programme::Entity,
            release_programme::Column::ProgrammeId,
        ))
        .group_by_col((release_office::Entity, release_office::Column::OfficeId))
        .group_by_col((
            release_programme::Entity,
            release_programme::Column::PublishedOn,
        ));
    let pair_columns = [
        release_pair_day_count::Column::ProgrammeId,
        release_pair_day_count::Column::OfficeId,
        release_pair_day_count::Column::PublishedOn,
        release_pair_day_count::Column::Releases,
    ];
    txn.execute(&insert(
        release_pair_day_count::Entity,
        pair_columns,
        pairs,
    )?)
    .await?;
    Ok(())
}

/// `INSERT INTO table (columns) <select>`.
fn insert<const N: usize>(
    table: impl IntoIden,
    columns: [impl IntoIden; N],
    select: SelectStatement,
) -> Result<InsertStatement, DbErr> {
    let mut insert = Query::insert();
    insert
        .into_table(table)
        .columns(columns)
        .select_from(select)
        .map_err(|e| DbErr::Custom(format!("count statement: {e}")))?;
    Ok(insert)
}
