package dev.moe4j.springai;

import dev.moe4j.api.Engine;
import java.nio.file.Path;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Spring Boot auto-configuration: with {@code moe4j.model-path} set, an {@link Engine} over that model (closed with
 * the context) and a {@link Moe4jChatModel} over it, each unless the application defines its own. Spring AI's
 * {@link ToolCallingManager} bean is used when there is one.
 */
@AutoConfiguration
@ConditionalOnClass({ChatModel.class, Engine.class})
@ConditionalOnProperty(prefix = "moe4j", name = "model-path")
@EnableConfigurationProperties(Moe4jProperties.class)
public class Moe4jAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public Engine moe4jEngine(Moe4jProperties properties) {
        Engine.Options options = Engine.Options.defaults().withContextLength(properties.getContextLength())
                .withMaxSequences(properties.getMaxSequences()).withKvCacheBytes(properties.getKvCacheBytes());
        return Engine.load(Path.of(properties.getModelPath()), options);
    }

    @Bean
    @ConditionalOnMissingBean
    public Moe4jChatModel moe4jChatModel(Engine engine, Moe4jProperties properties,
                                         ObjectProvider<ToolCallingManager> toolCallingManager) {
        Moe4jChatOptions defaults = new Moe4jChatOptions();
        defaults.setThinking(properties.getThinking());
        defaults.setTemperature(properties.getTemperature());
        defaults.setMaxTokens(properties.getMaxTokens());
        Moe4jChatModel.Builder builder = Moe4jChatModel.builder().engine(engine).defaultOptions(defaults)
                .modelName(String.valueOf(Path.of(properties.getModelPath()).getFileName()));
        toolCallingManager.ifAvailable(builder::toolCallingManager);
        return builder.build();
    }
}
