/// The version `strait --version` prints; bumped with each release.
public enum StraitVersion {
    public static let current = "0.1.0"
}
