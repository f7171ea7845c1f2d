-- Q5: the releases matching a search for one word, the first 20 newest first, their count, and
-- their counts by year, by programme and by office (largest first, ties by name, then slug).
-- The api also matches the word as the prefix of a longer one (search as you type), so every
-- statement uses the same tsquery as it does: the English word OR the word as a 'simple'
-- prefix. Each is one bitmap scan of the GIN index on search_vector; pgbench counts the five
-- statements as one transaction.
select slug, title, published_on
  from release
 where search_vector @@ (websearch_to_tsquery('english', :search) || to_tsquery('simple', :search || ':*'))
 order by published_on desc, id desc
 limit 20;
select count(*) as total_count
  from release
 where search_vector @@ (websearch_to_tsquery('english', :search) || to_tsquery('simple', :search || ':*'));
select extract(year from published_on)::int as year, count(*) as releases
  from release
 where search_vector @@ (websearch_to_tsquery('english', :search) || to_tsquery('simple', :search || ':*'))
 group by 1
 order by 1 desc;
select p.slug as programme, count(*) as releases
  from release_programme rp join programme p on p.id = rp.programme_id
 where rp.release_id in (select id from release
                          where search_vector @@ (websearch_to_tsquery('english', :search)
                                                  || to_tsquery('simple', :search || ':*')))
 group by p.id
 order by count(*) desc, p.name, p.slug;
select o.slug as office, count(*) as releases
  from release_office ro join office o on o.id = ro.office_id
 where ro.release_id in (select id from release
                          where search_vector @@ (websearch_to_tsquery('english', :search)
                                                  || to_tsquery('simple', :search || ':*')))
 group by o.id
 order by count(*) desc, o.name, o.slug;
