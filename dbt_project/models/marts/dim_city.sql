{{ config(materialized='table') }}
select city_id, name_en, name_zh, name_local, country_iso3, region, wikidata_qid, gawc_name,
       latitude, longitude
from {{ ref('stg_registry__cities') }}
