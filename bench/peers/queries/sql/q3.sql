-- Q3: a page of 20 deep in the archive, after the keyset position (published_on, id),
-- plus one row to know whether a next page exists.
select slug, title, published_on
  from release
 where (published_on, id) < (:after_date, :after_id)
 order by published_on desc, id desc
 limit 21;
