//! Partner-hirer relationship types and small sets of them.

/// A relationship a hirer grants a partner; each unlocks a set of operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelationshipType {
    /// Export candidate profiles and attachments of the hirer's applications.
    ApplicationExport,
    /// Post and manage the hirer's job ads.
    JobPosting,
    /// Upload candidates and purchase profiles.
    ProactiveSourcing,
}

impl RelationshipType {
    /// Every type, in code order.
    pub const ALL: [Self; 3] = [Self::ApplicationExport, Self::JobPosting, Self::ProactiveSourcing];

    /// The SEEK `relationshipTypeCodes` value.
    pub fn code(self) -> &'static str {
        match self {
            Self::ApplicationExport => "ApplicationExport",
            Self::JobPosting => "JobPosting",
            Self::ProactiveSourcing => "ProactiveSourcing",
        }
    }

    /// Parses a code exactly as SEEK spells it.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    fn bit(self) -> u8 {
        match self {
            Self::ApplicationExport => 1,
            Self::JobPosting => 2,
            Self::ProactiveSourcing => 4,
        }
    }
}

impl std::fmt::Display for RelationshipType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The relationships one partner holds with one hirer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RelationshipSet(u8);

impl RelationshipSet {
    /// No relationship at all.
    pub const NONE: Self = Self(0);

    /// Adds a type.
    pub fn insert(&mut self, t: RelationshipType) {
        self.0 |= t.bit();
    }

    /// True when the set holds `t`.
    pub fn contains(self, t: RelationshipType) -> bool {
        self.0 & t.bit() != 0
    }

    /// True when the set holds no relationship.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The types held, in code order.
    pub fn types(self) -> Vec<RelationshipType> {
        RelationshipType::ALL.into_iter().filter(|t| self.contains(*t)).collect()
    }

    /// The SEEK codes held, in code order.
    pub fn codes(self) -> Vec<String> {
        self.types().into_iter().map(|t| t.code().to_owned()).collect()
    }
}

impl FromIterator<RelationshipType> for RelationshipSet {
    fn from_iter<I: IntoIterator<Item = RelationshipType>>(iter: I) -> Self {
        let mut set = Self::NONE;
        for t in iter {
            set.insert(t);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_sets_hold_what_was_inserted() {
        for t in RelationshipType::ALL {
            assert_eq!(RelationshipType::parse(t.code()), Some(t));
        }
        assert_eq!(RelationshipType::parse("applicationexport"), None);
        let set: RelationshipSet =
            [RelationshipType::ProactiveSourcing, RelationshipType::ApplicationExport].into_iter().collect();
        assert!(set.contains(RelationshipType::ApplicationExport));
        assert!(!set.contains(RelationshipType::JobPosting));
        assert_eq!(set.codes(), vec!["ApplicationExport", "ProactiveSourcing"]);
        assert!(RelationshipSet::NONE.is_empty());
    }
}
