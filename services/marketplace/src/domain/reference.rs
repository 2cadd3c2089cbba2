//! Regions and categories: loaded once (they are seeded by migration) and used to turn what
//! clients send (a code, or a Russian or Kazakh name) into codes.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Region {
    pub code: String,
    pub name_ru: String,
    pub name_kk: String,
    /// `city` (of republican significance) or `oblast`.
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Category {
    pub code: String,
    pub parent_code: Option<String>,
    pub name_ru: String,
    pub name_kk: String,
}

#[derive(Debug, Clone, Default)]
pub struct Reference {
    pub regions: Vec<Region>,
    pub categories: Vec<Category>,
}

/// Words for "furniture" itself: the seed's clients send `["мебель", "шкафы"]`. They are
/// understood and narrow nothing (the other categories say what kind).
pub const ANY_FURNITURE: &[&str] = &["мебель", "жиһаз", "furniture"];

fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.to_lowercase()
}

impl Reference {
    /// The region a client means by `name` (code or name in either language).
    pub fn region(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|r| same(name, &r.code) || same(name, &r.name_ru) || same(name, &r.name_kk))
    }

    pub fn category(&self, name: &str) -> Option<&Category> {
        self.categories.iter().find(|c| same(name, &c.code) || same(name, &c.name_ru) || same(name, &c.name_kk))
    }

    /// The code of the region a client means, or what is wrong.
    pub fn region_code(&self, name: &str) -> Result<String, String> {
        self.region(name).map(|r| r.code.clone()).ok_or_else(|| "unknown region; see /api/v2/regions".to_owned())
    }

    /// A category filter: the category a client means and its subcategories, or what is wrong.
    pub fn category_filter(&self, name: &str) -> Result<Vec<String>, String> {
        self.category(name)
            .map(|c| self.subtree(&c.code))
            .ok_or_else(|| "unknown category; see /api/v2/categories".to_owned())
    }

    /// Category codes for `names`, without repeats; the names not recognised otherwise.
    pub fn category_codes(&self, names: &[String]) -> Result<Vec<String>, Vec<String>> {
        let mut codes: Vec<String> = Vec::new();
        let mut unknown = Vec::new();
        for name in names {
            match self.category(name) {
                Some(category) if !codes.contains(&category.code) => codes.push(category.code.clone()),
                Some(_) => {}
                None if ANY_FURNITURE.iter().any(|word| same(name, word)) => {}
                None => unknown.push(name.clone()),
            }
        }
        if unknown.is_empty() { Ok(codes) } else { Err(unknown) }
    }

    /// A category and everything under it: a filter on "cabinet" also finds "wardrobes".
    pub fn subtree(&self, code: &str) -> Vec<String> {
        let mut codes = vec![code.to_owned()];
        let mut index = 0;
        while index < codes.len() {
            let parent = codes[index].clone();
            codes.extend(
                self.categories.iter().filter(|c| c.parent_code.as_deref() == Some(&parent)).map(|c| c.code.clone()),
            );
            index += 1;
        }
        codes
    }

    /// A little of the seeded data, for tests.
    #[cfg(test)]
    pub fn sample() -> Reference {
        let region = |code: &str, ru: &str, kk: &str| Region {
            code: code.into(),
            name_ru: ru.into(),
            name_kk: kk.into(),
            kind: "city".into(),
        };
        let category = |code: &str, parent: Option<&str>, ru: &str| Category {
            code: code.into(),
            parent_code: parent.map(Into::into),
            name_ru: ru.into(),
            name_kk: ru.into(),
        };
        Reference {
            regions: vec![
                region("almaty", "Алматы", "Алматы"),
                region("aktobe", "Актюбинская область", "Ақтөбе облысы"),
            ],
            categories: vec![
                category("cabinet", None, "Корпусная мебель"),
                category("wardrobes", Some("cabinet"), "Шкафы"),
                category("sliding_wardrobes", Some("cabinet"), "Шкафы-купе"),
                category("sofas", None, "Диваны"),
            ],
        }
    }

    /// The categories whose requests concern a master serving `served`: each served category,
    /// everything under it, and its parents (a request for "cabinet" furniture concerns a master
    /// of "wardrobes").
    pub fn relevant_categories(&self, served: &[String]) -> Vec<String> {
        let mut codes: Vec<String> = Vec::new();
        for code in served {
            let mut parent = self.category(code).and_then(|c| c.parent_code.clone());
            while let Some(code) = parent {
                parent = self.category(&code).and_then(|c| c.parent_code.clone());
                codes.push(code);
            }
            codes.extend(self.subtree(code));
        }
        codes.sort_unstable();
        codes.dedup();
        codes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_master_is_concerned_by_subcategories_and_parents() {
        let reference = reference();
        let parent = reference.categories.iter().find(|c| c.parent_code.is_none()).unwrap().code.clone();
        let child = reference.subtree(&parent).into_iter().find(|c| *c != parent).unwrap();
        let relevant = reference.relevant_categories(std::slice::from_ref(&child));
        assert!(relevant.contains(&parent) && relevant.contains(&child), "{relevant:?}");
        assert_eq!(reference.relevant_categories(std::slice::from_ref(&parent)), {
            let mut all = reference.subtree(&parent);
            all.sort_unstable();
            all
        });
    }

    fn reference() -> Reference {
        Reference::sample()
    }

    #[test]
    fn regions_by_code_or_name_in_either_language() {
        let reference = reference();
        assert_eq!(reference.region("almaty").unwrap().code, "almaty");
        assert_eq!(reference.region(" алматы ").unwrap().code, "almaty");
        assert_eq!(reference.region("Ақтөбе облысы").unwrap().code, "aktobe");
        assert!(reference.region("Москва").is_none());
    }

    #[test]
    fn categories_resolve_without_repeats_and_name_the_unknown() {
        let reference = reference();
        assert_eq!(reference.category_codes(&["шкафы".into(), "wardrobes".into()]).unwrap(), ["wardrobes"]);
        assert_eq!(reference.category_codes(&["шкафы".into(), "Мебель".into()]).unwrap(), ["wardrobes"]);
        assert_eq!(reference.category_codes(&["шкафы".into(), "мебля".into()]).unwrap_err(), ["мебля"]);
    }

    #[test]
    fn a_subtree_holds_the_category_and_its_children() {
        assert_eq!(reference().subtree("cabinet"), ["cabinet", "wardrobes", "sliding_wardrobes"]);
        assert_eq!(reference().subtree("sofas"), ["sofas"]);
    }
}
