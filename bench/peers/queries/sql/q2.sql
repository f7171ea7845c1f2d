-- Q2: one programme's releases in a date range, the first 20 newest first, then the count.
-- Both read the (programme_id, published_on, release_id) index of release_programme; pgbench
-- counts the two statements as one transaction.
select r.slug, r.title, r.published_on
  from release_programme rp join release r on r.id = rp.release_id
 where rp.programme_id = (select id from programme where slug = :programme)
   and rp.published_on between :from and :to
 order by rp.published_on desc, rp.release_id desc
 limit 20;
select count(*) as total_count
  from release_programme rp
 where rp.programme_id = (select id from programme where slug = :programme)
   and rp.published_on between :from and :to;
