-- Q4: one release by slug, with its programmes and offices.
select r.slug, r.title, r.published_on, r.summary, r.image_credit,
       (select json_agg(json_build_object('slug', p.slug, 'name', p.name, 'acronym', p.acronym)
                        order by p.name)
          from release_programme rp join programme p on p.id = rp.programme_id
         where rp.release_id = r.id) as programmes,
       (select json_agg(json_build_object('slug', o.slug, 'name', o.name, 'city', o.city)
                        order by o.name)
          from release_office ro join office o on o.id = ro.office_id
         where ro.release_id = r.id) as offices
  from release r
 where r.slug = :slug;
