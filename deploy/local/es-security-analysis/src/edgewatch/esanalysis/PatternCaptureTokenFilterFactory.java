package edgewatch.esanalysis;

import java.util.List;
import java.util.regex.Pattern;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.pattern.PatternCaptureGroupTokenFilter;
import org.elasticsearch.plugin.Inject;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;
import org.elasticsearch.plugin.settings.AnalysisSettings;
import org.elasticsearch.plugin.settings.BooleanSetting;
import org.elasticsearch.plugin.settings.ListSetting;

/** Token filter "pattern_capture": emits every capture group of every pattern as an extra token. */
@NamedComponent("pattern_capture")
public class PatternCaptureTokenFilterFactory implements TokenFilterFactory {

    @AnalysisSettings
    public interface Settings {
        @ListSetting(path = "patterns")
        List<String> patterns();

        @BooleanSetting(path = "preserve_original", defaultValue = true)
        boolean preserveOriginal();
    }

    private final Pattern[] patterns;
    private final boolean preserveOriginal;

    // Elasticsearch also builds every stable-API component once per index with empty settings
    // (a "default instance" usable by bare name), so an empty pattern list must not fail here;
    // it only fails if an analyzer really uses an unconfigured pattern_capture.
    @Inject
    public PatternCaptureTokenFilterFactory(Settings settings) {
        List<String> sources = settings.patterns();
        this.patterns = sources == null ? new Pattern[0] : sources.stream().map(Pattern::compile).toArray(Pattern[]::new);
        this.preserveOriginal = settings.preserveOriginal();
    }

    @Override
    public TokenStream create(TokenStream input) {
        if (patterns.length == 0) {
            throw new IllegalArgumentException("pattern_capture requires a non-empty [patterns] list");
        }
        return new PatternCaptureGroupTokenFilter(input, preserveOriginal, patterns);
    }
}
