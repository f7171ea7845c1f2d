-- Q1: the newest 20 releases, with their programmes and offices (slug and name, by name).
select r.slug, r.title, r.published_on,
       (select json_agg(json_build_object('slug', p.slug, 'name', p.name) order by p.name)
          from release_programme rp join programme p on p.id = rp.programme_id
         where rp.release_id = r.id) as programmes,
       (select json_agg(json_build_object('slug', o.slug, 'name', o.name) order by o.name)
          from release_office ro join office o on o.id = ro.office_id
         where ro.release_id = r.id) as offices
  from release r
 order by r.published_on desc, r.id desc
 limit 20;
